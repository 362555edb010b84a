/**
 * Pure of the cluster: the cache sync's Job and CronJob, and the files the cache holds (the PEP 503
 * tree, wheel and sdist names, core metadata).
 */
package dev.pypimirror.operator.cache;
