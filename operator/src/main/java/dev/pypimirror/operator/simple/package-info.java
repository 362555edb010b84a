/**
 * Pure: the Simple Repository API (PEP 503, 592, 658/714, 691) as data: project names, the page
 * model, HTML and JSON rendered and parsed, content negotiation, how several upstreams make one
 * page, and when a stored page is fresh. Shared by {@code index} and the proxy.
 */
package dev.pypimirror.operator.simple;
