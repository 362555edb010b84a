package dev.pypimirror.operator.cache;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What reading a package file told us (its sha256 and Requires-Python), kept between runs so that a
 * rebuild that changes nothing reads no package file again. Keyed by file name, size and
 * modification time: a file replaced by other bytes gets a new key. Stored in DIR as {@value
 * #FILE_NAME}, one line per file; the first line marks the file as ours.
 */
record FileFacts(String sha256, String requiresPython) {
  static final String FILE_NAME = ".pypi-mirror-index-cache";
  static final String HEADER = "# pypi-mirror-operator index cache v1";

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  record Key(String fileName, long size, long modifiedNanos) {}

  /** Whether these bytes are a cache file we wrote (so that we may replace it). */
  static boolean isOurs(byte[] content) {
    return new String(content, 0, Math.min(content.length, HEADER.length()), StandardCharsets.UTF_8)
        .equals(HEADER);
  }

  /** The entries of a cache file; lines that do not parse are dropped (they are read again). */
  static Map<Key, FileFacts> parse(byte[] content) {
    Map<Key, FileFacts> facts = new HashMap<>();
    for (String line : new String(content, StandardCharsets.UTF_8).split("\n")) {
      parseLine(line).ifPresent(e -> facts.put(e.getKey(), e.getValue()));
    }
    return facts;
  }

  private static Optional<Map.Entry<Key, FileFacts>> parseLine(String line) {
    // sha256 TAB size TAB mtime-ns TAB requires-python TAB file-name (both URL-encoded)
    String[] fields = line.split("\t", -1);
    if (fields.length != 5 || !SHA256.matcher(fields[0]).matches()) {
      return Optional.empty();
    }
    try {
      Key key =
          new Key(
              URLDecoder.decode(fields[4], StandardCharsets.UTF_8),
              Long.parseLong(fields[1]),
              Long.parseLong(fields[2]));
      return Optional.of(
          Map.entry(
              key, new FileFacts(fields[0], URLDecoder.decode(fields[3], StandardCharsets.UTF_8))));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The cache file for these entries, in file-name order: the same facts give the same bytes. */
  static byte[] format(Map<Key, FileFacts> facts) {
    StringBuilder out = new StringBuilder(HEADER).append('\n');
    facts.entrySet().stream()
        .sorted(
            Map.Entry.comparingByKey(
                Comparator.comparing(Key::fileName)
                    .thenComparingLong(Key::size)
                    .thenComparingLong(Key::modifiedNanos)))
        .forEach(
            e ->
                out.append(e.getValue().sha256())
                    .append('\t')
                    .append(e.getKey().size())
                    .append('\t')
                    .append(e.getKey().modifiedNanos())
                    .append('\t')
                    .append(
                        URLEncoder.encode(e.getValue().requiresPython(), StandardCharsets.UTF_8))
                    .append('\t')
                    .append(URLEncoder.encode(e.getKey().fileName(), StandardCharsets.UTF_8))
                    .append('\n'));
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }
}
