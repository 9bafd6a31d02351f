package dev.graft.features;

import dev.graft.error.GraftException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Everything that decides what a base computes for an image, apart from the image itself: the base
 * id, its weights key (provenance and checksum), the cut point, the preprocessing and the input
 * size. Two caches with different keys never share an entry; change any component and the cache
 * misses.
 *
 * <pre>{@code
 * FeatureKey key = new FeatureKey(base.id(), base.weightsKey(), base.featureLayer(),
 *     base.preprocessing().toString(), base.inputSize());
 * try (FeatureCache cache = FeatureCache.open(cacheDir, key)) { ... }
 * }</pre>
 *
 * @param baseId base id, e.g. {@code "resnet50"}
 * @param weightsKey weights provenance, e.g. {@code "imagenet:adler32=3501732770"}
 * @param cutPoint layer whose activations are cached
 * @param preprocessing a canonical description of the pixel preprocessing (values, not just a name)
 * @param inputSize square input side in pixels
 */
public record FeatureKey(
    String baseId, String weightsKey, String cutPoint, String preprocessing, int inputSize) {

  public FeatureKey {
    if (baseId == null || baseId.isBlank()) {
      throw new GraftException("feature key needs a base id, got '" + baseId + "'");
    }
    if (weightsKey == null || cutPoint == null || preprocessing == null) {
      throw new GraftException(
          "feature key components may not be null: weightsKey="
              + weightsKey
              + ", cutPoint="
              + cutPoint
              + ", preprocessing="
              + preprocessing);
    }
    if (inputSize <= 0) {
      throw new GraftException("feature key input size must be positive, got " + inputSize);
    }
  }

  /** The canonical text of this key: one component a line, stable across releases. */
  public String canonical() {
    return "graft-feature-key/1\nbase="
        + baseId
        + "\nweights="
        + weightsKey
        + "\ncut="
        + cutPoint
        + "\npreprocessing="
        + preprocessing
        + "\ninputSize="
        + inputSize
        + "\n";
  }

  /** Hex SHA-256 of an arbitrary key text; the cache directory name is its first 32 characters. */
  static String digest(String keyText) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(keyText.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
