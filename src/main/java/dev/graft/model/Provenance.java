package dev.graft.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How a model was trained, typed: what {@code TransferBuilder} records in the model file (as the
 * string settings of {@code graft.json}, so that the file format stays and older files read: a
 * setting they lack reads as empty, 0, NaN or false). Settings this type does not name, for example
 * those a newer Graft adds, are kept in {@link #other()}.
 *
 * <pre>{@code
 * Provenance p = TransferModel.load(Path.of("m.graft")).info().provenance();
 * if (p.resumedFromEpoch() > 0) { ... }
 * }</pre>
 *
 * @param strategy the strategy and its settings, in words
 * @param head the head, in words
 * @param cut the base layer the head reads
 * @param weightsSha256 the SHA-256 of the base weights file, when known
 * @param unfrozen base layers that trained (fine-tuning), in order
 * @param epochs epochs asked for, in all
 * @param batchSize minibatch size
 * @param learningRate the strategy's main learning rate
 * @param earlyStopping early-stopping patience (0: off)
 * @param monitor what decided the best epoch
 * @param seed the seed
 * @param classWeights per-class loss weights, in words ("none")
 * @param weightDecay decoupled weight decay
 * @param augmentation training augmentation, in words
 * @param cachedActivations whether frozen activations were cached
 * @param data the training images: where from and how many
 * @param validation the validation images: where from and how many ("none")
 * @param restoredEpoch the epoch whose weights the model holds
 * @param stoppedEarly whether early stopping ended training
 * @param resumedFromEpoch epochs a checkpoint held when training resumed (0: a fresh run)
 * @param trainingSeconds wall-clock seconds of the run that finished training
 * @param l2 the L2 strength a logistic-regression head was fitted with, in words ("" for other
 *     heads)
 * @param l2Selection how that strength was chosen, e.g. by 5-fold cross-validation ("" for other
 *     heads)
 * @param other settings not named above, in file order
 */
public record Provenance(
    String strategy,
    String head,
    String cut,
    Optional<String> weightsSha256,
    List<String> unfrozen,
    int epochs,
    int batchSize,
    double learningRate,
    int earlyStopping,
    String monitor,
    long seed,
    String classWeights,
    double weightDecay,
    String augmentation,
    boolean cachedActivations,
    String data,
    String validation,
    int restoredEpoch,
    boolean stoppedEarly,
    int resumedFromEpoch,
    double trainingSeconds,
    String l2,
    String l2Selection,
    Map<String, String> other) {

  /** The setting names this type reads, in the order the model file lists them. */
  static final List<String> NAMED =
      List.of(
          "strategy",
          "head",
          "cut",
          "weightsSha256",
          "unfrozen",
          "epochs",
          "batchSize",
          "learningRate",
          "earlyStopping",
          "monitor",
          "seed",
          "classWeights",
          "weightDecay",
          "augmentation",
          "cachedActivations",
          "data",
          "validation",
          "restoredEpoch",
          "stoppedEarly",
          "resumedFromEpoch",
          "trainingSeconds",
          "l2",
          "l2Selection");

  /** Copies. */
  public Provenance {
    l2 = l2 == null ? "" : l2;
    l2Selection = l2Selection == null ? "" : l2Selection;
    weightsSha256 = weightsSha256 == null ? Optional.empty() : weightsSha256;
    unfrozen = unfrozen == null ? List.of() : List.copyOf(unfrozen);
    other =
        other == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(other));
  }

  /**
   * Reads the settings of a model file, leniently: a missing or unparsable value reads as empty, 0,
   * NaN or false (files of older Graft versions lack some).
   */
  public static Provenance of(Map<String, String> settings) {
    Map<String, String> s = settings == null ? Map.of() : settings;
    Map<String, String> other = new LinkedHashMap<>(s);
    other.keySet().removeAll(Set.copyOf(NAMED));
    String unfrozen = s.getOrDefault("unfrozen", "");
    return new Provenance(
        s.getOrDefault("strategy", ""),
        s.getOrDefault("head", ""),
        s.getOrDefault("cut", ""),
        Optional.ofNullable(s.get("weightsSha256")),
        unfrozen.isEmpty() ? List.of() : Arrays.asList(unfrozen.split(",")),
        (int) number(s, "epochs", 0),
        (int) number(s, "batchSize", 0),
        number(s, "learningRate", Double.NaN),
        (int) number(s, "earlyStopping", 0),
        s.getOrDefault("monitor", ""),
        (long) number(s, "seed", 0),
        s.getOrDefault("classWeights", "none"),
        number(s, "weightDecay", 0),
        s.getOrDefault("augmentation", ""),
        Boolean.parseBoolean(s.get("cachedActivations")),
        s.getOrDefault("data", ""),
        s.getOrDefault("validation", ""),
        (int) number(s, "restoredEpoch", 0),
        Boolean.parseBoolean(s.get("stoppedEarly")),
        (int) number(s, "resumedFromEpoch", 0),
        number(s, "trainingSeconds", Double.NaN),
        s.getOrDefault("l2", ""),
        s.getOrDefault("l2Selection", ""),
        other);
  }

  private static double number(Map<String, String> s, String key, double otherwise) {
    String v = s.get(key);
    if (v == null) {
      return otherwise;
    }
    try {
      return Double.parseDouble(v.strip());
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
