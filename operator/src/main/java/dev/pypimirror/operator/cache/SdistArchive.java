package dev.pypimirror.operator.cache;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a tar source distribution's member headers (ustar, GNU long names, pax paths) without
 * unpacking it, to refuse one whose names or links would land outside the directory it is unpacked
 * in, or that holds device files. Only {@code .tar.gz} (PEP 625), {@code .tgz} and plain {@code
 * .tar} are read; other compressions are refused.
 */
final class SdistArchive {
  private static final int BLOCK = 512;

  private SdistArchive() {}

  /** Why the sdist is refused, or null. */
  static String problem(Path file, String name) throws IOException {
    boolean gzip = name.endsWith(".tar.gz") || name.endsWith(".tgz");
    if (!gzip && !name.endsWith(".tar")) {
      return "only .tar.gz and .zip source distributions are taken (PEP 625)";
    }
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
        InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
      return tarProblem(in);
    } catch (ZipException e) {
      return "not a valid gzip file (" + e.getMessage() + ")";
    }
  }

  private static String tarProblem(InputStream in) throws IOException {
    String longName = null;
    String longLink = null;
    byte[] header = new byte[BLOCK];
    while (true) {
      if (in.readNBytes(header, 0, BLOCK) < BLOCK) {
        return "not a valid tar archive (truncated)";
      }
      if (allZero(header)) {
        return null;
      }
      long size = number(header, 124, 12);
      if (size < 0) {
        return "not a valid tar archive (bad member size)";
      }
      char type = (char) header[156];
      if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
        if (size > 1 << 20) {
          return "not a valid tar archive (a header record of " + size + " bytes)";
        }
        String data = new String(read(in, size), StandardCharsets.UTF_8);
        if (type == 'L') {
          longName = cString(data);
        } else if (type == 'K') {
          longLink = cString(data);
        } else if (type == 'x') {
          longName = paxValue(data, "path", longName);
          longLink = paxValue(data, "linkpath", longLink);
        }
        continue;
      }
      String member = longName != null ? longName : fullName(header);
      String link = longLink != null ? longLink : field(header, 157, 100);
      longName = null;
      longLink = null;
      String problem =
          CacheIntake.memberProblem(
              member.endsWith("/") && member.length() > 1
                  ? member.substring(0, member.length() - 1)
                  : member);
      if (problem == null) {
        problem = typeProblem(type, member, link);
      }
      if (problem != null) {
        return problem;
      }
      skip(in, padded(size));
    }
  }

  /** Why a member of this tar type is unsafe: a link out of the archive, a device or a fifo. */
  private static String typeProblem(char type, String member, String link) {
    if (type == '1' || type == '2') {
      if (link.startsWith("/") || link.contains("\\") || ("/" + link + "/").contains("/../")) {
        return "link member "
            + CacheIntake.printable(member)
            + " points outside the archive: "
            + CacheIntake.printable(link);
      }
    } else if (type == '3' || type == '4' || type == '6') {
      return "member " + CacheIntake.printable(member) + " is a device or fifo";
    }
    return null;
  }

  private static String fullName(byte[] header) {
    String name = field(header, 0, 100);
    boolean ustar = new String(header, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
    String prefix = ustar ? field(header, 345, 155) : "";
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  private static String paxValue(String records, String key, String otherwise) {
    String value = otherwise;
    for (String record : records.split("\n")) {
      int space = record.indexOf(' ');
      if (space > 0 && record.startsWith(key + "=", space + 1)) {
        value = record.substring(space + 2 + key.length());
      }
    }
    return value;
  }

  private static byte[] read(InputStream in, long size) throws IOException {
    byte[] data = in.readNBytes((int) size);
    if (data.length < size) {
      throw new IOException("truncated tar archive");
    }
    skip(in, padded(size) - size);
    return data;
  }

  private static void skip(InputStream in, long bytes) throws IOException {
    while (bytes > 0) {
      long skipped = in.skip(bytes);
      if (skipped <= 0) {
        if (in.read() < 0) {
          return;
        }
        skipped = 1;
      }
      bytes -= skipped;
    }
  }

  private static long padded(long size) {
    return (size + BLOCK - 1) / BLOCK * BLOCK;
  }

  /** An octal field (or GNU base-256 when the high bit is set); -1 when unreadable. */
  private static long number(byte[] header, int offset, int length) {
    if ((header[offset] & 0x80) != 0) {
      long value = 0;
      for (int i = offset + 1; i < offset + length; i++) {
        value = (value << 8) | (header[i] & 0xff);
      }
      return value;
    }
    String text = field(header, offset, length).trim();
    try {
      return text.isEmpty() ? 0 : Long.parseLong(text, 8);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String field(byte[] header, int offset, int length) {
    int end = offset;
    while (end < offset + length && header[end] != 0) {
      end++;
    }
    return new String(header, offset, end - offset, StandardCharsets.UTF_8);
  }

  private static String cString(String data) {
    int nul = data.indexOf('\0');
    return nul < 0 ? data : data.substring(0, nul);
  }

  private static boolean allZero(byte[] block) {
    for (byte b : block) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }
}
