/**
 * Pure, and free of Kubernetes: the files the cache holds (its layout, the PEP 503 tree, wheel and
 * sdist names, core metadata) and the sync's trusted step over them; the proxy shares it.
 */
package dev.pypimirror.operator.cache;
