/**
 * The composition root: {@code OperatorApp} builds the informers, webhook, reconcilers and the
 * leader's duties from the settings, and the build's own version ({@code BuildInfo}).
 */
package dev.pypimirror.operator;
