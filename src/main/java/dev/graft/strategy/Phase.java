package dev.graft.strategy;

import java.util.Map;
import java.util.Set;

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

  /** The highest learning rate of the phase (the head's). */
  public double maxLearningRate() {
    return learningRates.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }
}
