/**
 * The contract: the CRD classes, the pod annotations and the namespaces never injected; depends on
 * nothing else of the operator.
 */
package dev.pypimirror.operator.api;
