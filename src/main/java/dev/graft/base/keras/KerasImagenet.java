package dev.graft.base.keras;

import dev.graft.error.GraftException;
import dev.graft.io.Downloader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Keras Applications' published ImageNet weight files: where they live and a verified, cached,
 * offline-aware download. Which file each base uses, with the hash Keras publishes for it (in
 * {@code keras/applications/*.py}, checked by {@code keras.utils.get_file}), is declared with the
 * base in {@link dev.graft.base.Architecture#kerasImagenetFile(boolean)}.
 *
 * <p>A download is streamed to a temporary name in the cache directory while its MD5 is computed,
 * verified, then atomically renamed; a mismatch leaves nothing in the cache. A cached file is
 * verified again before use. Offline, no connection is opened and a missing file is an error that
 * names the file expected and where to get it.
 *
 * <pre>{@code
 * KerasWeightFile file = Architecture.INCEPTION_V3.kerasImagenetFile(false).orElseThrow();
 * Path h5 = KerasImagenet.fetch(file, KerasImagenet.BASE_URL,
 *     Path.of(System.getProperty("user.home"), ".graft", "cache"), false);
 * KerasWeights.load(InceptionV3.build(299, 42), h5);
 * }</pre>
 */
public final class KerasImagenet {

  /** Where Keras downloads its application weights from ({@code keras/applications/*.py}). */
  public static final String BASE_URL =
      "https://storage.googleapis.com/tensorflow/keras-applications/";

  /** System property giving another base URL (a mirror) for Keras weight files. */
  public static final String BASE_URL_PROPERTY = "graft.keras.baseUrl";

  /** Environment variable giving another base URL (a mirror) for Keras weight files. */
  public static final String BASE_URL_ENV = "GRAFT_KERAS_BASE_URL";

  /** Where Keras downloads its EfficientNet weights from ({@code efficientnet.py}). */
  public static final String EFFICIENTNET_BASE_URL =
      "https://storage.googleapis.com/keras-applications/";

  private KerasImagenet() {}

  /**
   * One published Keras weight file.
   *
   * @param path path relative to the base URL, for example {@code
   *     inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5}; its last segment
   *     names the cached file
   * @param md5 the MD5 Keras publishes for it, 32 hex digits, or {@code null} where Keras publishes
   *     none (MobileNetV2): Graft then never downloads it
   * @param home the base URL Keras downloads it from ({@link #BASE_URL} for most files)
   */
  public record KerasWeightFile(String path, String md5, String home) {
    public KerasWeightFile {
      if (path == null || path.isBlank() || path.endsWith("/")) {
        throw new GraftException(
            "a Keras weight file needs a path naming a file, got '" + path + "'");
      }
      if (md5 != null && !md5.matches("[0-9a-fA-F]{32}")) {
        throw new GraftException("an MD5 hash is 32 hex digits, got '" + md5 + "'");
      }
      md5 = md5 == null ? null : md5.toLowerCase(Locale.ROOT);
      while (path.startsWith("/")) {
        path = path.substring(1);
      }
      Objects.requireNonNull(home, "home");
    }

    /** A file under {@link #BASE_URL}. */
    public KerasWeightFile(String path, String md5) {
      this(path, md5, BASE_URL);
    }

    /** The file name in the cache directory. */
    public String fileName() {
      return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The download URL under {@code baseUrl} (a missing trailing slash is added). */
    public URI url(String baseUrl) {
      return Downloader.resolve(baseUrl, path);
    }
  }

  /**
   * The base URL to download from: {@code explicit} if not null, else the system property {@value
   * #BASE_URL_PROPERTY}, else the environment variable {@value #BASE_URL_ENV}, else {@link
   * #BASE_URL}.
   */
  public static String baseUrl(String explicit) {
    return Downloader.baseUrl(explicit, BASE_URL_PROPERTY, BASE_URL_ENV, BASE_URL);
  }

  /**
   * The cached, verified copy of {@code file}, downloaded from {@code baseUrl} first if needed.
   *
   * @throws GraftException offline with no good cached copy (naming the file expected and its URL)
   * @throws IOException the download failed or its bytes do not have the published MD5
   */
  public static Path fetch(KerasWeightFile file, String baseUrl, Path cacheDir, boolean offline)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(cacheDir, "cacheDir");
    // a mirror holds every file by its path; Keras's own URLs differ per family
    URI url = file.url(baseUrl == null || baseUrl.equals(BASE_URL) ? file.home() : baseUrl);
    if (file.md5() == null) {
      throw new GraftException(
          "Keras publishes no checksum for "
              + url
              + ", and Graft downloads only weights it can verify: download it yourself, check it,"
              + " and pass it as a weights file (--weights "
              + file.fileName()
              + ")");
    }
    return Downloader.fetch(
        "Keras ImageNet weights",
        file.fileName(),
        url,
        Downloader.Checksum.md5(file.md5()),
        cacheDir,
        offline);
  }

  /** The MD5 of a file, in lower-case hex (what Keras's {@code get_file(file_hash=…)} checks). */
  public static String md5(Path file) throws IOException {
    return Downloader.Algorithm.MD5.of(file);
  }
}
