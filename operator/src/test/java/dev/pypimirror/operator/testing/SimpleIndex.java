package dev.pypimirror.operator.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Writes a minimal PEP 503 tree by hand, independent of the project's own code. */
public final class SimpleIndex {
  private SimpleIndex() {}

  public static String normalize(String name) {
    return name.toLowerCase().replaceAll("[-_.]+", "-");
  }

  /** Copies {@code file} into {@code root/<normalized name>/} and writes that project's page. */
  public static void add(Path root, String project, Path file) throws IOException {
    Path dir = Files.createDirectories(root.resolve(normalize(project)));
    Path target = dir.resolve(file.getFileName());
    Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    String name = file.getFileName().toString();
    Files.writeString(
        dir.resolve("index.html"),
        "<!DOCTYPE html>\n<html><body>\n<a href=\"%s#sha256=%s\">%s</a>\n</body></html>\n"
            .formatted(name, sha256(target), name));
  }

  static String sha256(Path file) throws IOException {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
