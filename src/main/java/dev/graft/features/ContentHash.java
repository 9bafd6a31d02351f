package dev.graft.features;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The identity of an image (or of any bytes) in the feature cache: the SHA-256 of its content, as
 * 64 lower-case hex characters. Renaming or moving a file keeps its identity; editing it does not.
 *
 * <pre>{@code
 * String id = ContentHash.of(Path.of("rose.jpg"));
 * }</pre>
 */
public final class ContentHash {
  /** Bytes of a SHA-256 digest. */
  static final int BYTES = 32;

  /** Read buffer, one per thread: hashing 100,000 files makes no garbage. */
  private static final ThreadLocal<byte[]> BUFFER =
      ThreadLocal.withInitial(() -> new byte[64 * 1024]);

  private ContentHash() {}

  /**
   * SHA-256 of a file's bytes, as lower-case hex.
   *
   * @param file the file
   * @return 64 hex characters
   * @throws IOException if the file cannot be read
   */
  public static String of(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = BUFFER.get();
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** A new SHA-256 digest. */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Hex SHA-256 of a text's UTF-8 bytes. */
  static String ofText(String text) {
    return HexFormat.of()
        .formatHex(sha256().digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /**
   * Checks that {@code h} is a content hash.
   *
   * @throws GraftException echoing the value when it is not 64 lower-case hex characters
   */
  static void check(String h) {
    if (h == null
        || h.length() != 2 * BYTES
        || !h.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new GraftException(
          "content hash must be 64 lower-case hex characters, got '" + h + "'");
    }
  }
}
