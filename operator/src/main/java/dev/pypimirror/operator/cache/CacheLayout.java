package dev.pypimirror.operator.cache;

/**
 * The cache volume's layout, shared by everything that writes or reads it: the sync's {@code
 * ingest}, {@code index} and the caching proxy. Distribution files live flat in {@link #FILES_DIR};
 * the PEP 503 tree (one folder per normalized project name) sits beside it.
 */
public final class CacheLayout {
  /**
   * Where distribution files go under the cache root (never a PEP 503 project name: it has a '_').
   */
  public static final String FILES_DIR = "_files";

  private CacheLayout() {}
}
