package dev.graft.base.keras;

import dev.graft.GraftException;
import dev.graft.base.Downloader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Keras Applications' published ImageNet weight files: where they live, the hash Keras publishes
 * for each (in {@code keras/applications/*.py}, checked by {@code keras.utils.get_file}), and a
 * verified, cached, offline-aware download.
 *
 * <p>A download is streamed to a temporary name in the cache directory while its MD5 is computed,
 * verified, then atomically renamed; a mismatch leaves nothing in the cache. A cached file is
 * verified again before use. Offline, no connection is opened and a missing file is an error that
 * names the file expected and where to get it.
 *
 * <pre>{@code
 * Path h5 = KerasImagenet.fetch(KerasImagenet.INCEPTION_V3_NOTOP, KerasImagenet.BASE_URL,
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

  /** InceptionV3 without its top: 87,910,968 bytes. */
  public static final KerasWeightFile INCEPTION_V3_NOTOP =
      new KerasWeightFile(
          "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
          "bcbd6486424b2319ff4ef7d526e38f63");

  /** InceptionV3 with its 1000-way {@code predictions} layer: 96,112,376 bytes. */
  public static final KerasWeightFile INCEPTION_V3 =
      new KerasWeightFile(
          "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
          "9a0d58056eeedaa3f26cb7ebd46da564");

  /** VGG16 without its dense top ({@code block1_conv1} … {@code block5_conv3}). */
  public static final KerasWeightFile VGG16_NOTOP =
      new KerasWeightFile(
          "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
          "6d6bbae143d832006294945121d1f1fc");

  /** VGG16 with {@code fc1}, {@code fc2} and {@code predictions}: 553,467,096 bytes. */
  public static final KerasWeightFile VGG16 =
      new KerasWeightFile(
          "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b");

  /** ResNet50 (tf.keras names {@code conv1_conv}, {@code conv2_block1_1_conv}, …) without top. */
  public static final KerasWeightFile RESNET50_NOTOP =
      new KerasWeightFile(
          "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
          "4d473c1dd8becc155b73f8504c6f6626");

  /** ResNet50 (tf.keras names) with its {@code predictions} layer: 102,967,424 bytes. */
  public static final KerasWeightFile RESNET50 =
      new KerasWeightFile(
          "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
          "2cb95161c43110f7111970584f804107");


  private KerasImagenet() {}

  /** MobileNetV2 (alpha 1.0, 224 px) without its top; Keras publishes no hash for it. */
  public static final KerasWeightFile MOBILENET_V2_NOTOP =
      new KerasWeightFile(
          "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", null);

  /** MobileNetV2 (alpha 1.0, 224 px) with its {@code predictions} layer; no published hash. */
  public static final KerasWeightFile MOBILENET_V2 =
      new KerasWeightFile(
          "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", null);

  /** Where Keras downloads its EfficientNet weights from ({@code efficientnet.py}). */
  public static final String EFFICIENTNET_BASE_URL = "https://storage.googleapis.com/keras-applications/";

  /** EfficientNetB0 without its top (with its {@code normalization} layer's mean and variance). */
  public static final KerasWeightFile EFFICIENTNET_B0_NOTOP =
      new KerasWeightFile(
          "efficientnetb0_notop.h5", "50bc09e76180e00e4465e1a485ddc09d", EFFICIENTNET_BASE_URL);

  /** EfficientNetB0 with its {@code predictions} layer. */
  public static final KerasWeightFile EFFICIENTNET_B0 =
      new KerasWeightFile(
          "efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac", EFFICIENTNET_BASE_URL);

  /**
   * One published Keras weight file.
   *
   * @param path path relative to the base URL, for example {@code
   *     inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5}; its last segment
   *     names the cached file
   * @param md5 the MD5 Keras publishes for it, 32 hex digits, or {@code null} where Keras
   *     publishes none (MobileNetV2): Graft then never downloads it
   * @param home the base URL Keras downloads it from ({@link #BASE_URL} for most files)
   */
  public record KerasWeightFile(String path, String md5, String home) {
    public KerasWeightFile {
      if (path == null || path.isBlank() || path.endsWith("/")) {
        throw new GraftException("a Keras weight file needs a path naming a file, got '" + path + "'");
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
   * The published file for a catalog architecture.
   *
   * @param architectureId {@code inceptionv3}, {@code vgg16} or {@code resnet50}
   * @param top whether the file must include the dense top (VGG16 {@code fc1}/{@code fc2})
   * @throws GraftException for another id
   */
  public static KerasWeightFile file(String architectureId, boolean top) {
    return switch (architectureId.toLowerCase(Locale.ROOT)) {
      case "inceptionv3", "inception_v3" -> top ? INCEPTION_V3 : INCEPTION_V3_NOTOP;
      case "vgg16" -> top ? VGG16 : VGG16_NOTOP;
      case "resnet50" -> top ? RESNET50 : RESNET50_NOTOP;
      case "mobilenetv2" -> top ? MOBILENET_V2 : MOBILENET_V2_NOTOP;
      case "efficientnetb0" -> top ? EFFICIENTNET_B0 : EFFICIENTNET_B0_NOTOP;
      default -> throw new GraftException(
          "Keras publishes no ImageNet weights Graft knows for '" + architectureId
              + "' (known: inceptionv3, vgg16, resnet50, mobilenetv2, efficientnetb0)");
    };
  }

  /**
   * The base URL to download from: {@code explicit} if not null, else the system property {@value
   * #BASE_URL_PROPERTY}, else the environment variable {@value #BASE_URL_ENV}, else {@link
   * #BASE_URL}.
   */
  public static String baseUrl(String explicit) {
    if (explicit != null && !explicit.isBlank()) {
      return explicit;
    }
    String p = System.getProperty(BASE_URL_PROPERTY);
    if (p != null && !p.isBlank()) {
      return p;
    }
    String env = System.getenv(BASE_URL_ENV);
    if (env != null && !env.isBlank()) {
      return env;
    }
    return BASE_URL;
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
