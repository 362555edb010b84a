/**
 * The webhook's certificates: the operator's own CA, the reloading key manager, and what the
 * certificate Secret holds next.
 */
package dev.pypimirror.operator.tls;
