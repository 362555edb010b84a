/**
 * I/O: the caching proxy ({@code proxy}): its HTTP server, upstream client, page cache and file
 * store, composed by {@link dev.pypimirror.operator.proxy.ProxyApp}. It uses no Kubernetes client.
 */
package dev.pypimirror.operator.proxy;
