package dev.pypimirror.operator.settings;

/**
 * Every setting and timing of the operator with its default and what it does, in one place: the
 * command line's defaults, {@link OperatorSettings#defaults()} and the fixed timings all read them
 * from here.
 */
public final class Defaults {
  private Defaults() {}

  /** This operator's image of this version (a constant: the command line's help names it). */
  public static final String OWN_IMAGE = "ghcr.io/pypimirror/pypi-mirror-operator:0.1.0";

  public static final Setting<String> INDEX_IMAGE =
      new Setting<>(
          "run --index-image",
          OWN_IMAGE,
          "The image the cache sync Job runs its trusted step (`ingest`) with when none is"
              + " configured: this operator's own, as deploy/ and the Helm chart name it.");
}
