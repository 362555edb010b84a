package dev.pypimirror.operator.cache;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * A folder inside the index root, opened without following a symbolic link. Every read, write,
 * rename and mode change below goes through the folder's own descriptor (openat, renameat, fchmod)
 * and never follows a link, so a link put in place after a check cannot carry a write outside the
 * root. Modes are set explicitly: the process umask never decides who can read what we write.
 */
final class ConfinedFolder implements Closeable {
  static final Set<PosixFilePermission> FOLDER_MODE = PosixFilePermissions.fromString("rwxr-xr-x");
  static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");

  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Something in the way that is not ours: it is left exactly as it is. */
  static final class LeftAlone extends IOException {
    LeftAlone(String message) {
      super(message);
    }
  }

  private final Path path;
  private final SecureDirectoryStream<Path> folder;

  private ConfinedFolder(Path path, SecureDirectoryStream<Path> folder) {
    this.path = path;
    this.folder = folder;
  }

  /** Opens the root itself (a real path, links already resolved by the caller). */
  static ConfinedFolder openRoot(Path realPath) throws IOException {
    DirectoryStream<Path> stream = Files.newDirectoryStream(realPath);
    if (stream instanceof SecureDirectoryStream<Path> secure) {
      return new ConfinedFolder(realPath, secure);
    }
    stream.close();
    throw new IOException(
        "this platform cannot open files relative to a folder without following links (openat);"
            + " index runs on Linux");
  }

  Path path() {
    return path;
  }

  /** An entry's attributes, not following a link; empty when there is no such entry. */
  Optional<PosixFileAttributes> attributes(String name) throws IOException {
    try {
      return Optional.of(view(name).readAttributes());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /**
   * Opens the sub-folder {@code name}, creating it (mode 0755) when absent. A link or anything else
   * but a folder of that name is left alone.
   */
  ConfinedFolder folder(String name, boolean create) throws IOException {
    Optional<PosixFileAttributes> attributes = attributes(name);
    if (attributes.isEmpty() && create) {
      try {
        // mkdir never follows a link in the last component; the parents are this folder's real path
        Files.createDirectory(path.resolve(name));
      } catch (FileAlreadyExistsException e) {
        // made by someone else meanwhile: looked at below like anything found
      }
      attributes = attributes(name);
    }
    if (attributes.isEmpty()) {
      throw new NoSuchFileException(path.resolve(name).toString());
    }
    if (attributes.get().isSymbolicLink()) {
      throw new LeftAlone(path.resolve(name) + " is a symbolic link");
    }
    if (!attributes.get().isDirectory()) {
      throw new LeftAlone(path.resolve(name) + " is not a folder");
    }
    SecureDirectoryStream<Path> child = folder.newDirectoryStream(Path.of(name), NOFOLLOW);
    return new ConfinedFolder(path.resolve(name), child);
  }

  /**
   * The first {@code limit} bytes of the regular file {@code name}, or empty when there is none; a
   * link or anything else but a regular file is left alone.
   */
  Optional<byte[]> read(String name, int limit) throws IOException {
    Optional<PosixFileAttributes> attributes = attributes(name);
    if (attributes.isEmpty()) {
      return Optional.empty();
    }
    if (!attributes.get().isRegularFile()) {
      throw new LeftAlone(path.resolve(name) + " is not a regular file");
    }
    Set<OpenOption> options = Set.of(StandardOpenOption.READ, NOFOLLOW);
    try (SeekableByteChannel channel = folder.newByteChannel(Path.of(name), options)) {
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(limit, channel.size()));
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {}
      byte[] bytes = new byte[buffer.position()];
      buffer.flip().get(bytes);
      return Optional.of(bytes);
    }
  }

  /**
   * Replaces {@code name} with {@code content} atomically: a temporary file in this folder, mode
   * 0644, renamed over it. A reader sees the old bytes or the new, never a part.
   */
  void writeAtomically(String name, byte[] content) throws IOException {
    Path temporary = Path.of(".index-" + HexFormat.of().toHexDigits(RANDOM.nextLong()) + ".tmp");
    Set<OpenOption> options =
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW);
    boolean moved = false;
    try {
      try (SeekableByteChannel channel =
          folder.newByteChannel(
              temporary, options, PosixFilePermissions.asFileAttribute(FILE_MODE))) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
      }
      view(temporary.toString()).setPermissions(FILE_MODE);
      folder.move(temporary, folder, Path.of(name));
      moved = true;
    } finally {
      if (!moved) {
        try {
          folder.deleteFile(temporary);
        } catch (NoSuchFileException e) {
          // never created
        }
      }
    }
  }

  /** Gives this folder mode 0755 unless it has it; fails when we may not (not the owner). */
  void makeReadableByAll() throws IOException {
    PosixFileAttributeView self = folder.getFileAttributeView(PosixFileAttributeView.class);
    if (!self.readAttributes().permissions().equals(FOLDER_MODE)) {
      self.setPermissions(FOLDER_MODE);
    }
  }

  private PosixFileAttributeView view(String name) {
    return folder.getFileAttributeView(Path.of(name), PosixFileAttributeView.class, NOFOLLOW);
  }

  @Override
  public void close() throws IOException {
    folder.close();
  }
}
