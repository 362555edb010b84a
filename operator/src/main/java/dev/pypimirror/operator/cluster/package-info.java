/**
 * I/O outside the reconcilers: the informer caches the webhook decides from, the missed-injection
 * audit, event recording, the leader's schedule.
 */
package dev.pypimirror.operator.cluster;
