package dev.graft.io;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * SHA-256 digests of files, and pins on them. The checksums publishers give (DL4J's Adler32,
 * Keras's MD5) detect accidents, not tampering; a SHA-256 the user pins does.
 *
 * <pre>{@code
 * String hex = Sha256.of(Path.of("vgg16.zip"));
 * Sha256.verify(Path.of("vgg16.zip"), pinnedHex);   // RefusedFileException on a mismatch
 * }</pre>
 */
public final class Sha256 {
  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{64}");

  private Sha256() {}

  /** The lower-case hex SHA-256 of a file's bytes. */
  public static String of(Path file) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** A new SHA-256 digest. */
  public static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /**
   * {@code hex} checked and lower-cased.
   *
   * @throws GraftException echoing the value unless it is 64 hex digits
   */
  public static String parse(String hex) {
    if (hex == null || !HEX.matcher(hex.strip()).matches()) {
      throw new GraftException("a SHA-256 is 64 hex digits, got '" + hex + "'");
    }
    return hex.strip().toLowerCase(Locale.ROOT);
  }

  /**
   * The file's SHA-256, checked against {@code expected} when that is not null.
   *
   * @throws RefusedFileException naming the file, the expected and the actual digest on a mismatch
   */
  public static String verify(Path file, String expected) throws IOException {
    String actual = of(file);
    if (expected != null && !actual.equals(parse(expected))) {
      throw new RefusedFileException(
          file,
          null,
          "SHA-256 is "
              + actual
              + " but "
              + parse(expected)
              + " was pinned; refused (a different or tampered file)");
    }
    return actual;
  }
}
