/**
 * I/O: the admission webhook's HTTPS server, its AdmissionReview handling, and the webhook
 * configurations the leader writes.
 */
package dev.pypimirror.operator.webhook;
