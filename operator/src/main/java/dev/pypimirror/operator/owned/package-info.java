/**
 * Pure: one class per kind of object a mirror owns, each its desired state, the informer that
 * watches it and the rule by which an existing object takes the desired state; the cache sync's
 * plan ({@link dev.pypimirror.operator.owned.CacheSync}) that its Job and CronJob share.
 */
package dev.pypimirror.operator.owned;
