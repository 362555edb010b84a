/**
 * Pure: which policy governs a namespace, what it allows, and the mirrors and status it should
 * have.
 */
package dev.pypimirror.operator.policy;
