/** Data: how the operator runs, every setting with its default. */
package dev.pypimirror.operator.settings;
