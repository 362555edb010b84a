/**
 * I/O: the admission chain of the embedded API server that {@code demo} and the tests run in front
 * of the mock server.
 */
package dev.pypimirror.operator.apiserver;
