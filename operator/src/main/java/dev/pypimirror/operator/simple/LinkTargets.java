package dev.pypimirror.operator.simple;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/**
 * A page's links (or a redirect's {@code Location}) made absolute against the page's URL, as {@link
 * URI#resolve} does, within time linear in their length. {@code URI.resolve} removes the {@code .}
 * and {@code ..} segments of a relative path in time that grows with the square of their number
 * (seconds for one link of 100,000); an upstream writes the links, and the page's URL is where its
 * redirects led. Real pages use two or three ({@code ../../packages/...}), so a relative link whose
 * path and the page's together have more than {@value #MAX_DOT_SEGMENTS} is dropped, like one that
 * does not parse.
 */
public final class LinkTargets {
  static final int MAX_DOT_SEGMENTS = 16;

  private final URI base;
  private final int baseDotSegments;

  public LinkTargets(URI base) {
    this.base = base;
    this.baseDotSegments = dotSegments(base.getRawPath());
  }

  /** The absolute URL of {@code reference}, or empty when it does not parse or is dropped. */
  public Optional<URI> resolve(String reference) {
    try {
      URI link = new URI(reference);
      boolean relativePath =
          link.getScheme() == null
              && link.getRawAuthority() == null
              && !link.getRawPath().startsWith("/");
      if (relativePath && baseDotSegments + dotSegments(link.getRawPath()) > MAX_DOT_SEGMENTS) {
        return Optional.empty();
      }
      return Optional.of(base.resolve(link));
    } catch (URISyntaxException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** How many segments of a path are {@code .} or {@code ..}. */
  static int dotSegments(String path) {
    if (path == null) {
      return 0;
    }
    int count = 0;
    int start = 0;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      int length = end - start;
      if ((length == 1 || length == 2) && path.startsWith("..".substring(0, length), start)) {
        count++;
      }
      start = end + 1;
    }
    return count;
  }
}
