/**
 * Pure: one class per kind of object a mirror owns, each its desired state, the informer that
 * watches it and the rule by which an existing object takes the desired state.
 */
package dev.pypimirror.operator.owned;
