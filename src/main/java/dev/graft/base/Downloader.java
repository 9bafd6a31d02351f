package dev.graft.base;

import dev.graft.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.zip.Adler32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a {@link PretrainedFile} into the cache directory once: streamed to a temporary name in
 * the same directory while its Adler32 is computed, verified, then atomically renamed, so the cache
 * never holds a half-written or corrupt file. Offline, it opens no connection.
 */
final class Downloader {
  private static final Logger LOG = LoggerFactory.getLogger(Downloader.class);
  private static final int CONNECT_TIMEOUT_MS = 30_000;
  private static final int READ_TIMEOUT_MS = 120_000;
  private static final long LOG_EVERY_NANOS = 5_000_000_000L;

  private Downloader() {}

  /**
   * The cached, verified copy of {@code file}, downloaded from {@code baseUrl} first if needed.
   *
   * @throws GraftException offline with no cached copy (naming the file expected and its URL)
   * @throws IOException the download failed or the bytes do not match the checksum
   */
  static Path fetch(PretrainedFile file, String baseUrl, Path cacheDir, boolean offline)
      throws IOException {
    Path target = cacheDir.resolve(file.fileName()).toAbsolutePath();
    URI url = file.url(baseUrl);
    if (Files.isRegularFile(target)) {
      long actual = adler32(target);
      if (actual == file.adler32()) {
        LOG.info("Using cached {} (Adler32 {} verified)", target, actual);
        return target;
      }
      if (offline) {
        throw new GraftException(
            "offline mode: the cached file "
                + target
                + " is corrupt (Adler32 "
                + actual
                + ", expected "
                + file.adler32()
                + "); replace it with a good copy of "
                + url);
      }
      LOG.warn(
          "Cached {} is corrupt (Adler32 {}, expected {}); downloading it again",
          target,
          actual,
          file.adler32());
      Files.delete(target);
    }
    if (offline) {
      throw new GraftException(
          "offline mode: pretrained weights not in the cache; expected file "
              + target
              + " (Adler32 "
              + file.adler32()
              + "). Download "
              + url
              + " on a connected machine and put it there, or turn offline mode off"
              + " (graft.offline / GRAFT_OFFLINE)");
    }
    Files.createDirectories(cacheDir);
    Path part = Files.createTempFile(target.getParent(), file.fileName() + ".", ".part");
    try {
      long checksum = download(url, part);
      if (checksum != file.adler32()) {
        throw new IOException(
            "checksum mismatch for "
                + url
                + ": Adler32 "
                + checksum
                + ", expected "
                + file.adler32()
                + "; nothing was cached at "
                + target);
      }
      Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      LOG.info("Cached {} (Adler32 {} verified)", target, checksum);
      return target;
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /** Streams {@code url} into {@code out}, logging progress; returns the Adler32 of the bytes. */
  private static long download(URI url, Path out) throws IOException {
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
          throw new IOException(
              "download of " + url + " failed: HTTP " + status + " " + http.getResponseMessage());
        }
      }
      in = connection.getInputStream();
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("download of ")) {
        throw e;
      }
      throw new IOException("could not download " + url + ": " + e, e);
    }
    long total = connection.getContentLengthLong();
    Adler32 adler = new Adler32();
    long done = 0;
    long start = System.nanoTime();
    long lastLog = start;
    byte[] buf = new byte[1 << 16];
    try (InputStream src = in;
        OutputStream dst = Files.newOutputStream(out)) {
      int n;
      while ((n = src.read(buf)) > 0) {
        adler.update(buf, 0, n);
        dst.write(buf, 0, n);
        done += n;
        long now = System.nanoTime();
        if (now - lastLog >= LOG_EVERY_NANOS) {
          lastLog = now;
          LOG.info(progress(url, done, total, now - start));
        }
      }
    } catch (IOException e) {
      throw new IOException("download of " + url + " broke off after " + done + " bytes: " + e, e);
    }
    if (total >= 0 && done != total) {
      throw new IOException(
          "download of " + url + " ended after " + done + " of " + total + " bytes");
    }
    LOG.info(progress(url, done, total, System.nanoTime() - start));
    return adler.getValue();
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

  static long adler32(Path file) throws IOException {
    Adler32 adler = new Adler32();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        adler.update(buf, 0, n);
      }
    }
    return adler.getValue();
  }
}
