package dev.graft.model;

import dev.graft.base.Base;
import dev.graft.base.Preprocessing;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import dev.graft.metrics.History;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything a model file records besides the network: where the model came from (Graft version,
 * base and weights), how to feed it (input size, resize mode, preprocessing), what it predicts
 * (labels, in output order), and how it was trained (strategy, settings, final metrics, per-epoch
 * history).
 *
 * @param graftVersion the Graft version that trained the model ({@link GraftVersion#current()})
 * @param baseId the base's id, e.g. {@code "resnet50"} or a file name
 * @param weightsKey the base weights' provenance key, e.g. {@code "imagenet:adler32=3501732770"}
 * @param labels class names in the order of the network's outputs
 * @param preprocessing the pixel preprocessing applied before the network
 * @param inputSize the square input side in pixels
 * @param resize how images are brought to {@code inputSize}
 * @param strategy the strategy's name, e.g. {@code "frozen"}, {@code "finetune"}, {@code
 *     "features"}
 * @param settings training settings as strings (epochs, learning rate, seed, ...), in a stable
 *     order
 * @param metrics final metrics (e.g. {@code validationAccuracy}), in a stable order
 * @param history per-epoch history (may be empty, never null)
 * @param createdAtMillis when the model was made, milliseconds since the epoch
 */
public record ModelInfo(
    String graftVersion,
    String baseId,
    String weightsKey,
    List<String> labels,
    Preprocessing preprocessing,
    int inputSize,
    ResizeMode resize,
    String strategy,
    Map<String, String> settings,
    Map<String, Double> metrics,
    History history,
    long createdAtMillis) {

  /** Largest square input side a model may declare: {@link Base#MAX_INPUT_SIZE}. */
  public static final int MAX_INPUT_SIZE = Base.MAX_INPUT_SIZE;

  /** Validates and copies the collections (the record is immutable except for the history). */
  public ModelInfo {
    if (labels == null || labels.isEmpty()) {
      throw new GraftException("a model needs at least one label, got " + labels);
    }
    if (labels.stream().distinct().count() != labels.size()) {
      throw new GraftException("labels must be distinct, got " + labels);
    }
    if (inputSize <= 0 || inputSize > MAX_INPUT_SIZE) {
      throw new GraftException(
          "inputSize must be in [1, " + MAX_INPUT_SIZE + "], got " + inputSize);
    }
    if (preprocessing == null) {
      throw new GraftException("preprocessing is required");
    }
    graftVersion = graftVersion == null ? GraftVersion.current() : graftVersion;
    baseId = baseId == null ? "unknown" : baseId;
    weightsKey = weightsKey == null ? "unknown" : weightsKey;
    resize = resize == null ? ResizeMode.CENTER_CROP : resize;
    strategy = strategy == null ? "unknown" : strategy;
    labels = List.copyOf(labels);
    settings =
        settings == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    metrics =
        metrics == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    history = history == null ? new History() : history;
  }

  /** Number of classes. */
  public int numClasses() {
    return labels.size();
  }

  /**
   * The report's settings table: identity, input, classes, the training settings in the model
   * file's order, the final metrics and the Graft version, as ordered label/value pairs.
   */
  public Map<String, String> table() {
    ModelInfo info = this;
    Map<String, String> m = new LinkedHashMap<>();
    m.put("base", info.baseId());
    m.put("weights", info.weightsKey());
    m.put("strategy", info.strategy());
    m.put(
        "input size",
        info.inputSize() + " px (" + info.resize().name().toLowerCase(Locale.ROOT) + ")");
    m.put("preprocessing", info.preprocessing().name());
    m.put("classes", info.numClasses() + ": " + String.join(", ", info.labels()));
    info.settings().forEach(m::putIfAbsent);
    info.metrics()
        .forEach(
            (k, v) ->
                m.putIfAbsent(
                    k,
                    v == Math.rint(v)
                            && Math.abs(v) < 1e9
                            && !k.toLowerCase(Locale.ROOT).contains("acc")
                        ? Long.toString(v.longValue())
                        : String.format(Locale.ROOT, "%.4f", v)));
    m.put("graft version", info.graftVersion());
    return m;
  }

  /** The training settings, typed (read from {@link #settings()}; see {@link Provenance}). */
  public Provenance provenance() {
    return Provenance.of(settings);
  }

  /** A copy with {@code metrics} replaced (for example after a final evaluation). */
  public ModelInfo withMetrics(Map<String, Double> newMetrics) {
    return new ModelInfo(
        graftVersion,
        baseId,
        weightsKey,
        labels,
        preprocessing,
        inputSize,
        resize,
        strategy,
        settings,
        newMetrics,
        history,
        createdAtMillis);
  }

  /** A copy with {@code settings} replaced. */
  public ModelInfo withSettings(Map<String, String> newSettings) {
    return new ModelInfo(
        graftVersion,
        baseId,
        weightsKey,
        labels,
        preprocessing,
        inputSize,
        resize,
        strategy,
        newSettings,
        metrics,
        history,
        createdAtMillis);
  }
}
