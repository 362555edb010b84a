/**
 * I/O: the java-operator-sdk reconcilers, which read their informers, ask the pure packages what
 * should be, and write it.
 */
package dev.pypimirror.operator.reconciler;
