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
 */
public record Phase(
    String name,
    Map<String, Double> learningRates,
    int epochs,
    boolean warmupCosine,
    boolean earlyStopping) {

  /** Copies the map. */
  public Phase {
    learningRates = Map.copyOf(learningRates);
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
