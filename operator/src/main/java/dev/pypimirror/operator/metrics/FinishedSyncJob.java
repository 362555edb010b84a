package dev.pypimirror.operator.metrics;

import java.time.Instant;

/** A finished cache sync Job: its uid, whether it succeeded, when it finished (null: unknown). */
public record FinishedSyncJob(String uid, boolean succeeded, Instant finishedAt) {}
