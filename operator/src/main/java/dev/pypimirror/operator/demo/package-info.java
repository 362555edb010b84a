/** I/O: the {@code demo} command's flow against an embedded API server. */
package dev.pypimirror.operator.demo;
