/** Pure: which mirror a pod gets and what the webhook adds to it, as JSON Patch. */
package dev.pypimirror.operator.inject;
