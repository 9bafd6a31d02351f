package dev.graft.features;

import dev.graft.base.Base;
import dev.graft.base.Preprocessing;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Everything that decides what a cache entry holds for an image, apart from the image itself: the
 * one key of Graft's on-disk caches, both the featurizer's pooled features and training's frozen
 * activations. Two keys that differ in any component never share an entry. Its components are
 * typed; {@link #canonical()} is the only code that spells a key as text (the cache directory is
 * named by that text's hash).
 *
 * <pre>{@code
 * FeatureKey key = FeatureKey.pooled(FeatureKey.Input.of(base, ResizeMode.CENTER_CROP),
 *     base.featureLayer(), parametersSha256);
 * try (FeatureCache cache = FeatureCache.open(cacheDir, key)) { ... }
 * }</pre>
 *
 * <p>The text has two layouts, one per {@link Computation}, each kept byte for byte as the Graft
 * releases before this type wrote it, so that caches filled then are found now (a changed text
 * would only miss, never serve wrong data, but a miss costs a forward pass over every image).
 *
 * @param input what the images go through before the network, and which network
 * @param cut the base layer whose output the head reads
 * @param computation what is computed from the network up to the cut
 */
public record FeatureKey(Input input, String cut, Computation computation) {

  /** Validates. */
  public FeatureKey {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(computation, "computation");
    if (cut == null) {
      throw new GraftException("feature key needs a cut point, got null");
    }
  }

  /**
   * The base, its weights and how an image reaches its input.
   *
   * @param baseId base id, e.g. {@code "resnet50"}
   * @param weightsKey weights provenance, e.g. {@code "imagenet:adler32=3501732770"}
   * @param preprocessing the pixel preprocessing (the whole record: its values are in the key)
   * @param inputSize square input side in pixels
   * @param resize how images are brought to the input size
   */
  public record Input(
      String baseId,
      String weightsKey,
      Preprocessing preprocessing,
      int inputSize,
      ResizeMode resize) {
    /** Validates. */
    public Input {
      if (baseId == null || baseId.isBlank()) {
        throw new GraftException("feature key needs a base id, got '" + baseId + "'");
      }
      Objects.requireNonNull(weightsKey, "weightsKey");
      Objects.requireNonNull(preprocessing, "preprocessing");
      Objects.requireNonNull(resize, "resize");
      if (inputSize <= 0) {
        throw new GraftException("feature key input size must be positive, got " + inputSize);
      }
    }

    /** The input of {@code base}, its images brought to size by {@code resize}. */
    public static Input of(Base base, ResizeMode resize) {
      return new Input(
          base.id(), base.weightsKey(), base.preprocessing(), base.inputSize(), resize);
    }
  }

  /** What is computed from the network up to the cut; each variant writes its key text. */
  public sealed interface Computation permits Pooled, Activations {
    /** The key text of this computation on {@code input} at {@code cut}. */
    String text(Input input, String cut);
  }

  /**
   * The cut's output, globally average-pooled: what the featurizer caches.
   *
   * @param parametersSha256 hex SHA-256 of the cut graph's parameters (weights that claim one name
   *     but hold others miss)
   */
  public record Pooled(String parametersSha256) implements Computation {
    @Override
    public String text(Input in, String cut) {
      return "graft-feature-key/1\nbase="
          + in.baseId()
          + "\nweights="
          + in.weightsKey()
          + "|params-sha256="
          + parametersSha256
          + "\ncut="
          + cut
          + "\npreprocessing="
          + in.preprocessing()
          + "|resize="
          + in.resize().name()
          + "|pooling=global-average|numeric="
          + InferenceNetwork.NUMERIC_VERSION
          + "\ninputSize="
          + in.inputSize()
          + "\n";
    }
  }

  /**
   * One output of the frozen part below a training boundary: what training caches.
   *
   * @param boundary the boundary's vertices, in order
   * @param output the boundary output this cache holds ({@code ""}: the part as a whole, not a
   *     cache of its own)
   */
  public record Activations(List<String> boundary, String output) implements Computation {
    /** Copies. */
    public Activations {
      boundary = List.copyOf(boundary);
      Objects.requireNonNull(output, "output");
    }

    @Override
    public String text(Input in, String cut) {
      return in.baseId()
          + "|"
          + in.weightsKey()
          + "|"
          + in.preprocessing().keyName()
          + "|"
          + in.inputSize()
          + "|"
          + in.resize().name()
          + "|numeric="
          + InferenceNetwork.NUMERIC_VERSION
          + "|cut="
          + cut
          + "|boundary="
          + String.join(",", boundary)
          + (output.isEmpty() ? "" : "|output=" + output);
    }
  }

  /** The featurizer's key: pooled features of {@code input} at {@code cut}. */
  public static FeatureKey pooled(Input input, String cut, String parametersSha256) {
    return new FeatureKey(input, cut, new Pooled(parametersSha256));
  }

  /** Training's key of the frozen part below {@code boundary}, as a whole. */
  public static FeatureKey activations(Input input, String cut, List<String> boundary) {
    return new FeatureKey(input, cut, new Activations(boundary, ""));
  }

  /**
   * The key of one output of a frozen part's key ({@link #activations}).
   *
   * @throws GraftException for a pooled-features key
   */
  public FeatureKey output(String name) {
    if (!(computation instanceof Activations a)) {
      throw new GraftException("only a frozen part's key has outputs, not " + this);
    }
    return new FeatureKey(input, cut, new Activations(a.boundary(), name));
  }

  /** The canonical text of this key, stable across releases: the cache directory's name source. */
  public String canonical() {
    return computation.text(input, cut);
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
