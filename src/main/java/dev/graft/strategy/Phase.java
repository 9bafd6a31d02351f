package dev.graft.strategy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * One stage of training: which layers train, each at which peak learning rate, for how many epochs.
 * Fine-tuning has two (head-only warm-up, then fine-tune); the other strategies one.
 *
 * @param name "head", "warmup" or "finetune"
 * @param learningRates peak Adam learning rate of each trainable layer, by layer name
 * @param epochs epochs of this phase
 * @param warmupCosine whether the rates follow a warm-up + cosine schedule in this phase
 * @param earlyStopping whether early stopping may end this phase
 * @param convex whether the phase's one layer, the softmax output, is fitted to convergence on the
 *     cached features (a logistic regression, {@link dev.graft.head.Head.Solver#LBFGS}) instead of
 *     trained by epochs; such a phase counts as one epoch
 */
public record Phase(
    String name,
    Map<String, Double> learningRates,
    int epochs,
    boolean warmupCosine,
    boolean earlyStopping,
    boolean convex) {

  /** Copies the map. */
  public Phase {
    learningRates = Map.copyOf(learningRates);
  }

  /** A phase trained by epochs. */
  public Phase(
      String name,
      Map<String, Double> learningRates,
      int epochs,
      boolean warmupCosine,
      boolean earlyStopping) {
    this(name, learningRates, epochs, warmupCosine, earlyStopping, false);
  }

  /** Names of the layers that train in this phase. */
  public Set<String> trainable() {
    return learningRates.keySet();
  }

  /**
   * Per-layer Adam updaters for this phase, each trainable layer its own instance: constant rates,
   * or (when the phase has a schedule and {@code totalSteps > 0}) a linear warm-up over 10 % of the
   * iterations (at least one) and a cosine decay over the rest.
   *
   * @param totalSteps iterations the phase runs (0: unknown, constant rates)
   * @return updater by layer name
   */
  public Map<String, IUpdater> updaters(int totalSteps) {
    int warmup = Math.max(1, (int) Math.round(totalSteps * 0.1));
    Map<String, IUpdater> m = new LinkedHashMap<>();
    learningRates.forEach(
        (layer, lr) ->
            m.put(
                layer,
                warmupCosine && totalSteps > 0
                    ? new Adam(new WarmupCosineSchedule(lr, warmup, totalSteps, 0.0))
                    : new Adam(lr)));
    return m;
  }

  /** The highest learning rate of the phase (the head's). */
  public double maxLearningRate() {
    return learningRates.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }
}
