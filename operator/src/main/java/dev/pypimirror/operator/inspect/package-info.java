/**
 * Pure: what {@code check} explains about a pod or a namespace, and a webhook patch said in words.
 */
package dev.pypimirror.operator.inspect;
