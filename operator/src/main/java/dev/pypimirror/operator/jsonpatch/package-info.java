/** Pure: JSON Patch (RFC 6902) operations and JSON Pointer tokens, as every patch here is built. */
package dev.pypimirror.operator.jsonpatch;
