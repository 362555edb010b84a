/**
 * I/O: the HTTP(S) port the webhook and the caching proxy both serve through (Vert.x, TLS that
 * reloads, probes and metrics, requests in flight, graceful drain).
 */
package dev.pypimirror.operator.serving;
