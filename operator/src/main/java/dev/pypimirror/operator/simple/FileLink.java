package dev.pypimirror.operator.simple;

import java.util.Map;
import java.util.Objects;

/**
 * One file of a project page, as PEP 503, 592, 658/714 and 691 describe it.
 *
 * @param filename the file's name (the link text)
 * @param url where it is, without a fragment: absolute for an upstream's page, relative to the page
 *     for one we serve
 * @param hashes algorithm to lower-case hex digest (the href's fragment, PEP 691's {@code hashes})
 * @param requiresPython the {@code Requires-Python} specifier, empty when none
 * @param yanked null when not yanked, else the reason (empty: yanked without one)
 * @param coreMetadata null when the file's metadata is not served on its own, else its hashes
 *     (empty: served, digest unknown)
 */
public record FileLink(
    String filename,
    String url,
    Map<String, String> hashes,
    String requiresPython,
    String yanked,
    Map<String, String> coreMetadata) {
  public FileLink {
    Objects.requireNonNull(filename);
    Objects.requireNonNull(url);
    hashes = Map.copyOf(hashes);
    requiresPython = requiresPython == null ? "" : requiresPython;
    coreMetadata = coreMetadata == null ? null : Map.copyOf(coreMetadata);
  }

  /** The sha256 the page gives, or null. */
  public String sha256() {
    return hashes.get("sha256");
  }

  /** The same file at another URL. */
  public FileLink at(String otherUrl) {
    return new FileLink(filename, otherUrl, hashes, requiresPython, yanked, coreMetadata);
  }
}
