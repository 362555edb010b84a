/** I/O: the operator's Prometheus metrics. */
package dev.pypimirror.operator.metrics;
