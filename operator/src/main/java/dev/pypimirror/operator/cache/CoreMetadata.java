package dev.pypimirror.operator.cache;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads a distribution's core metadata (a wheel's {@code *.dist-info/METADATA}, an sdist's
 * top-level {@code PKG-INFO}) for the one field the index publishes: {@code Requires-Python}. A
 * file that is not a readable archive, or an sdist compressed with bzip2 or xz (the JDK reads
 * neither), simply declares nothing.
 */
final class CoreMetadata {
  /** Only the header section is read, and at most this much of it. */
  private static final int HEADER_LIMIT = 256 * 1024;

  private static final Pattern WHEEL_METADATA = Pattern.compile("[^/]+\\.dist-info/METADATA");
  private static final Pattern SDIST_PKG_INFO = Pattern.compile("(\\./)?[^/]+/PKG-INFO");

  private CoreMetadata() {}

  /** The file's Requires-Python, or "" when it declares none or cannot be read as an archive. */
  static String requiresPython(Path file, String fileName) throws IOException {
    byte[] metadata;
    try {
      metadata = read(file, fileName);
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      return "";
    }
    return metadata == null ? "" : header(metadata, "Requires-Python").orElse("");
  }

  private static byte[] read(Path file, String fileName) throws IOException {
    if (fileName.endsWith(".whl")) {
      return fromZip(file, WHEEL_METADATA);
    }
    if (fileName.endsWith(".zip")) {
      return fromZip(file, SDIST_PKG_INFO);
    }
    if (fileName.endsWith(".tar.gz") || fileName.endsWith(".tgz")) {
      try (InputStream in =
          new GZIPInputStream(
              new BufferedInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)))) {
        return fromTar(in);
      }
    }
    if (fileName.endsWith(".tar")) {
      try (InputStream in =
          new BufferedInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS))) {
        return fromTar(in);
      }
    }
    return null;
  }

  private static byte[] fromZip(Path file, Pattern entryName) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      var entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        if (!entry.isDirectory() && entryName.matcher(entry.getName()).matches()) {
          try (InputStream in = zip.getInputStream(entry)) {
            return in.readNBytes(HEADER_LIMIT);
          }
        }
      }
      return null;
    }
  }

  /** Walks a tar stream (ustar, with GNU long names and pax paths) to the top-level PKG-INFO. */
  static byte[] fromTar(InputStream in) throws IOException {
    String longName = null;
    while (true) {
      byte[] header = in.readNBytes(512);
      if (header.length < 512 || isZero(header)) {
        return null;
      }
      long size = octal(header, 124, 12);
      char type = (char) header[156];
      long padded = (size + 511) / 512 * 512;
      String name = longName != null ? longName : name(header);
      longName = null;
      if (type == 'L' || type == 'x') {
        byte[] data = in.readNBytes((int) Math.min(size, HEADER_LIMIT));
        in.skipNBytes(padded - data.length);
        longName = type == 'L' ? cString(data, 0, data.length) : paxPath(data);
        continue;
      }
      if ((type == '0' || type == '\0') && SDIST_PKG_INFO.matcher(name).matches()) {
        return in.readNBytes((int) Math.min(size, HEADER_LIMIT));
      }
      in.skipNBytes(padded);
    }
  }

  /**
   * The first value of a header in an RFC 822 style header block (ends at the first empty line).
   */
  static Optional<String> header(byte[] metadata, String field) {
    String prefix = field.toLowerCase(java.util.Locale.ROOT) + ":";
    for (String line : new String(metadata, StandardCharsets.UTF_8).split("\r?\n", -1)) {
      if (line.isEmpty()) {
        break;
      }
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith(prefix)) {
        String value = line.substring(prefix.length()).strip();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
      }
    }
    return Optional.empty();
  }

  private static String name(byte[] header) {
    String name = cString(header, 0, 100);
    boolean ustar = new String(header, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
    String prefix = ustar ? cString(header, 345, 155) : "";
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  private static String paxPath(byte[] data) {
    // records are "<length> <key>=<value>\n"
    for (String record : new String(data, StandardCharsets.UTF_8).split("\n")) {
      int space = record.indexOf(' ');
      if (space > 0 && record.startsWith("path=", space + 1)) {
        return record.substring(space + 1 + "path=".length());
      }
    }
    return null;
  }

  private static long octal(byte[] b, int offset, int length) throws IOException {
    long value = 0;
    for (int i = offset; i < offset + length; i++) {
      int c = b[i] & 0xff;
      if (c == 0 || c == ' ') {
        if (value > 0) {
          break;
        }
        continue;
      }
      if (c < '0' || c > '7') {
        throw new java.io.EOFException("not a tar header");
      }
      value = value * 8 + (c - '0');
    }
    return value;
  }

  private static String cString(byte[] b, int offset, int length) {
    int end = offset;
    while (end < offset + length && b[end] != 0) {
      end++;
    }
    return new String(b, offset, end - offset, StandardCharsets.UTF_8);
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }
}
