package dev.graft.io;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.Adler32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a published weight file into the cache directory once: streamed to a temporary name in
 * the same directory while its checksum is computed, verified, then atomically renamed, so the
 * cache never holds a half-written or corrupt file. Offline, it opens no connection. One code path
 * for DL4J's zoo files (Adler32), Keras's {@code .h5} files (MD5) and the {@code .safetensors}
 * files of the Hugging Face Hub (SHA-256, the digest its Git LFS pointers carry).
 */
public final class Downloader {
  private static final Logger LOG = LoggerFactory.getLogger(Downloader.class);

  /** The system property that turns offline mode on ({@code =true}): never try the network. */
  public static final String OFFLINE_PROPERTY = "graft.offline";

  private static final int CONNECT_TIMEOUT_MS = 30_000;
  private static final int READ_TIMEOUT_MS = 120_000;
  private static final long LOG_EVERY_NANOS = 5_000_000_000L;

  private Downloader() {}

  /** The checksum algorithms publishers use for weight files. */
  public enum Algorithm {
    /** DL4J's zoo files. */
    ADLER32("Adler32"),
    /** Keras's {@code get_file(file_hash=...)}. */
    MD5("MD5"),
    /** The Hugging Face Hub's files (the {@code oid sha256:} of their Git LFS pointer). */
    SHA256("SHA-256");

    private final String displayName;

    Algorithm(String displayName) {
      this.displayName = displayName;
    }

    /** The checksum of a whole file, as {@link Checksum#expected()} spells it. */
    public String of(Path file) throws IOException {
      Hasher hasher = hasher();
      byte[] buf = new byte[1 << 16];
      try (InputStream in = Files.newInputStream(file)) {
        int n;
        while ((n = in.read(buf)) > 0) {
          hasher.update(buf, n);
        }
      }
      return hasher.value();
    }

    Hasher hasher() {
      if (this == ADLER32) {
        Adler32 adler = new Adler32();
        return new Hasher() {
          @Override
          public void update(byte[] b, int n) {
            adler.update(b, 0, n);
          }

          @Override
          public String value() {
            return Long.toString(adler.getValue());
          }
        };
      }
      MessageDigest digest;
      try {
        digest = MessageDigest.getInstance(displayName);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("this JVM has no " + displayName, e);
      }
      return new Hasher() {
        @Override
        public void update(byte[] b, int n) {
          digest.update(b, 0, n);
        }

        @Override
        public String value() {
          return HexFormat.of().formatHex(digest.digest());
        }
      };
    }

    @Override
    public String toString() {
      return displayName;
    }
  }

  /** A running checksum over streamed bytes. */
  private interface Hasher {
    void update(byte[] bytes, int length);

    String value();
  }

  /**
   * The checksum a published file must have.
   *
   * @param algorithm how it is computed
   * @param expected its value: decimal for Adler32, lower-case hex for MD5 and SHA-256
   */
  public record Checksum(Algorithm algorithm, String expected) {
    public static Checksum adler32(long value) {
      return new Checksum(Algorithm.ADLER32, Long.toString(value));
    }

    public static Checksum md5(String hex) {
      return new Checksum(Algorithm.MD5, hex.toLowerCase(Locale.ROOT));
    }

    /** A SHA-256 digest, 64 hex digits. */
    public static Checksum sha256(String hex) {
      return new Checksum(Algorithm.SHA256, hex.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
      return algorithm + " " + expected;
    }
  }

  /**
   * The base URL to download a family of files from: {@code explicit} if set, else the system
   * property {@code property}, else the environment variable {@code env}, else {@code fallback}.
   */
  public static String baseUrl(String explicit, String property, String env, String fallback) {
    if (explicit != null && !explicit.isBlank()) {
      return explicit;
    }
    String p = System.getProperty(property);
    if (p != null && !p.isBlank()) {
      return p;
    }
    String e = System.getenv(env);
    if (e != null && !e.isBlank()) {
      return e;
    }
    return fallback;
  }

  /**
   * The download URL of {@code path} under {@code baseUrl} (a missing trailing slash is added).
   *
   * @throws GraftException naming the base URL when the result is not a URI
   */
  public static URI resolve(String baseUrl, String path) {
    String base = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
    try {
      return URI.create(base + path);
    } catch (IllegalArgumentException e) {
      throw new GraftException("bad download base URL: '" + baseUrl + "'", e);
    }
  }

  /**
   * The cached, verified copy of the file at {@code url}, downloaded first if needed.
   *
   * @param what what the file is, for messages ("pretrained weights")
   * @param fileName its name in {@code cacheDir}
   * @throws GraftException offline with no good cached copy (naming the file expected and its URL),
   *     the server unreachable or failing (naming the URL, the cache path to put the file in and
   *     {@code GRAFT_OFFLINE}), or the bytes do not match the checksum
   * @throws IOException the cache cannot be written
   */
  public static Path fetch(
      String what, String fileName, URI url, Checksum checksum, Path cacheDir, boolean offline)
      throws IOException {
    Path target = cacheDir.resolve(fileName).toAbsolutePath();
    Algorithm algorithm = checksum.algorithm();
    if (Files.isRegularFile(target)) {
      String actual = algorithm.of(target);
      if (actual.equals(checksum.expected())) {
        LOG.info("Using cached {} ({} {} verified)", target, algorithm, actual);
        return target;
      }
      if (offline) {
        throw new GraftException(
            "offline mode: the cached file "
                + target
                + " is corrupt ("
                + algorithm
                + " "
                + actual
                + ", expected "
                + checksum.expected()
                + "); replace it with a good copy of "
                + url);
      }
      LOG.warn(
          "Cached {} is corrupt ({} {}, expected {}); downloading it again",
          target,
          algorithm,
          actual,
          checksum.expected());
      Files.delete(target);
    }
    if (offline) {
      throw new GraftException(
          "offline mode: "
              + what
              + " not in the cache; expected file "
              + target
              + " ("
              + checksum
              + "). Download "
              + url
              + " on a connected machine and put it there, or turn offline mode off"
              + " (graft.offline / GRAFT_OFFLINE)");
    }
    Files.createDirectories(target.getParent());
    Path part = Files.createTempFile(target.getParent(), fileName + ".", ".part");
    try {
      String actual;
      try {
        actual = download(url, part, algorithm.hasher());
      } catch (NetworkFailure e) {
        throw new GraftException(
            e.getMessage()
                + ". Without network access, download it on a connected machine and put it at "
                + target
                + " (the cache); set GRAFT_OFFLINE=1 (or -D"
                + OFFLINE_PROPERTY
                + "=true) to never try the network",
            e);
      }
      if (!actual.equals(checksum.expected())) {
        throw new GraftException(
            "checksum mismatch for "
                + url
                + ": "
                + algorithm
                + " "
                + actual
                + ", expected "
                + checksum.expected()
                + "; nothing was cached at "
                + target);
      }
      Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      LOG.info("Cached {} ({} {} verified)", target, algorithm, actual);
      return target;
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /** The server could not be reached or did not send the whole file (not a local disk error). */
  private static final class NetworkFailure extends IOException {
    NetworkFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Streams {@code url} into {@code out}, logging progress; returns the checksum of the bytes.
   *
   * @throws NetworkFailure if the server cannot be reached, answers with an error or breaks off
   */
  private static String download(URI url, Path out, Hasher hasher) throws IOException {
    LOG.info("Downloading {} to {}", url, out.getParent());
    URLConnection connection;
    InputStream in;
    try {
      connection = url.toURL().openConnection();
      connection.setConnectTimeout(CONNECT_TIMEOUT_MS);
      connection.setReadTimeout(READ_TIMEOUT_MS);
      if (connection instanceof HttpURLConnection http) {
        int status = http.getResponseCode();
        if (status != HttpURLConnection.HTTP_OK) {
          http.disconnect();
          throw new NetworkFailure(
              "download of " + url + " failed: HTTP " + status + " " + http.getResponseMessage(),
              null);
        }
      }
      in = connection.getInputStream();
    } catch (IOException e) {
      if (e instanceof NetworkFailure) {
        throw e;
      }
      throw new NetworkFailure("could not download " + url + ": " + e, e);
    }
    long total = connection.getContentLengthLong();
    long done = 0;
    long start = System.nanoTime();
    long lastLog = start;
    byte[] buf = new byte[1 << 16];
    try (InputStream src = in;
        OutputStream dst = Files.newOutputStream(out)) {
      int n;
      while ((n = readNetwork(src, buf, url, done)) > 0) {
        hasher.update(buf, n);
        dst.write(buf, 0, n);
        done += n;
        long now = System.nanoTime();
        if (now - lastLog >= LOG_EVERY_NANOS) {
          lastLog = now;
          LOG.info(progress(url, done, total, now - start));
        }
      }
    }
    if (total >= 0 && done != total) {
      throw new NetworkFailure(
          "download of " + url + " ended after " + done + " of " + total + " bytes", null);
    }
    LOG.info(progress(url, done, total, System.nanoTime() - start));
    return hasher.value();
  }

  private static int readNetwork(InputStream src, byte[] buf, URI url, long done)
      throws NetworkFailure {
    try {
      return src.read(buf);
    } catch (IOException e) {
      throw new NetworkFailure(
          "download of " + url + " broke off after " + done + " bytes: " + e, e);
    }
  }

  /** A progress line: bytes, percent, rate and estimated time left. */
  static String progress(URI url, long done, long total, long elapsedNanos) {
    double seconds = Math.max(elapsedNanos / 1e9, 1e-3);
    double rate = done / seconds;
    String name = url.getPath().substring(url.getPath().lastIndexOf('/') + 1);
    if (total <= 0) {
      return String.format(Locale.ROOT, "%s: %.1f MB, %.1f MB/s", name, done / 1e6, rate / 1e6);
    }
    double eta = rate > 0 ? (total - done) / rate : Double.POSITIVE_INFINITY;
    return String.format(
        Locale.ROOT,
        "%s: %.1f of %.1f MB (%d %%), %.1f MB/s, ETA %.0f s",
        name,
        done / 1e6,
        total / 1e6,
        done * 100 / total,
        rate / 1e6,
        eta);
  }

  /**
   * The Adler-32 checksum of a file, as DL4J's zoo publishes it for its weight files.
   *
   * @param file the file to read
   * @return the checksum
   * @throws IOException the file cannot be read
   */
  public static long adler32(Path file) throws IOException {
    return Long.parseLong(Algorithm.ADLER32.of(file));
  }
}
