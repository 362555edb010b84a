/** I/O: the command line (picocli), one class per command. */
package dev.pypimirror.operator.cli;
