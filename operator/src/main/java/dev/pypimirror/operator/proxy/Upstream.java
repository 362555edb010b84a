package dev.pypimirror.operator.proxy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One upstream index, in priority order, with the Authorization header its credentials make (never
 * printed: {@link #toString} names the URL only).
 *
 * @param number its place in the {@code --upstream} order, from 0
 * @param url its simple index URL, ending in '/', without user info
 * @param authorization the header value, or null when it needs none
 */
public record Upstream(int number, URI url, String authorization) {
  /** The variable prefix of upstream i's credentials: {@code PYPI_PROXY_UPSTREAM_<i>_}. */
  public static final String ENV_PREFIX = "PYPI_PROXY_UPSTREAM_";

  /** The user name a token is sent with (PyPI's convention for API tokens). */
  public static final String TOKEN_USER = "__token__";

  public Upstream {
    Objects.requireNonNull(url);
  }

  /**
   * The upstreams of the command line, each with the credentials the environment gives it: {@code
   * PYPI_PROXY_UPSTREAM_<i>_USERNAME} and {@code _PASSWORD}, or {@code _TOKEN} (sent as user
   * {@value #TOKEN_USER}); each of them may instead name a file with {@code _FILE} appended (a
   * mounted Secret), whose content is used without its trailing newline.
   *
   * @throws IllegalArgumentException for a URL that is not http(s), has user info, a query or a
   *     fragment, or for credentials given only in half
   */
  public static List<Upstream> of(List<String> urls, Map<String, String> env, FileReader files) {
    List<Upstream> upstreams = new ArrayList<>();
    for (int i = 0; i < urls.size(); i++) {
      upstreams.add(new Upstream(i, checked(urls.get(i)), authorization(i, env, files)));
    }
    return List.copyOf(upstreams);
  }

  /** Reads a credential file (a seam for tests). */
  public interface FileReader {
    String read(String path) throws java.io.IOException;
  }

  static URI checked(String text) {
    URI url;
    try {
      url = URI.create(text.endsWith("/") ? text : text + "/");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("upstream " + text + " is not a URL");
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http") || url.getHost() == null) {
      throw new IllegalArgumentException("upstream " + text + ": only http(s) URLs with a host");
    }
    if (url.getRawUserInfo() != null) {
      throw new IllegalArgumentException(
          "upstream on %s has credentials in its URL: give them in the environment"
                  .formatted(url.getHost())
              + " (%s<i>_USERNAME and _PASSWORD, or _TOKEN), never on the command line"
                  .formatted(ENV_PREFIX));
    }
    if (url.getRawQuery() != null || url.getRawFragment() != null) {
      throw new IllegalArgumentException("upstream " + text + ": no query or fragment");
    }
    return url;
  }

  private static String authorization(int i, Map<String, String> env, FileReader files) {
    String prefix = ENV_PREFIX + i + "_";
    String user = value(prefix + "USERNAME", env, files);
    String password = value(prefix + "PASSWORD", env, files);
    String token = value(prefix + "TOKEN", env, files);
    if (token != null) {
      if (user != null || password != null) {
        throw new IllegalArgumentException(
            ("upstream %d's credentials give a token and a user name or password (%s%d_TOKEN and"
                    + " _USERNAME or _PASSWORD; in a mirror, its credentialsSecret's keys token and"
                    + " username or password): give a token alone, or a user name and password")
                .formatted(i, ENV_PREFIX, i));
      }
      user = TOKEN_USER;
      password = token;
    } else if (user == null != (password == null)) {
      throw new IllegalArgumentException(
          "upstream " + i + ": a user name needs a password and a password a user name");
    }
    if (user == null) {
      return null;
    }
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static String value(String name, Map<String, String> env, FileReader files) {
    String value = env.get(name);
    String file = env.get(name + "_FILE");
    if (value == null && file != null) {
      try {
        value = files.read(file);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot read " + name + "_FILE (" + file + ")");
      }
      value = value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
    }
    return value == null || value.isEmpty() ? null : value;
  }

  /** Whether {@code target} is on this upstream's own scheme, host and port. */
  public boolean sameOrigin(URI target) {
    return url.getScheme().equalsIgnoreCase(target.getScheme())
        && url.getHost().equalsIgnoreCase(String.valueOf(target.getHost()))
        && port(url) == port(target);
  }

  /**
   * Whether the proxy may fetch a URL this upstream's page lists: https anywhere, or this
   * upstream's own scheme and host; never with user info.
   */
  public boolean mayFetch(URI target) {
    if (target.getRawUserInfo() != null || target.getHost() == null) {
      return false;
    }
    return "https".equalsIgnoreCase(target.getScheme()) || sameOrigin(target);
  }

  /** The Authorization header for a request to {@code target}: only to the upstream's origin. */
  public String authorizationFor(URI target) {
    return authorization != null && sameOrigin(target) ? authorization : null;
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  @Override
  public String toString() {
    return "upstream "
        + number
        + " ("
        + url
        + (authorization == null ? "" : ", with credentials")
        + ")";
  }
}
