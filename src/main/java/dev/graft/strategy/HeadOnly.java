package dev.graft.strategy;

import dev.graft.error.Ranges;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plan shared by the strategies that train the head alone on a frozen base ({@link FrozenBase}
 * and {@link FeatureExtraction}): one phase, every head layer at the strategy's Adam rate, early
 * stopping allowed. The two differ only in whether augmentation applies.
 */
public abstract sealed class HeadOnly implements Strategy permits FrozenBase, FeatureExtraction {
  private final double learningRate;

  HeadOnly(double learningRate) {
    Ranges.learningRate(learningRate);
    this.learningRate = learningRate;
  }

  @Override
  public double learningRate() {
    return learningRate;
  }

  /**
   * One phase, {@code head}: the head's layers at the learning rate, the whole base frozen; for a
   * logistic-regression head, one convex fit instead of epochs.
   */
  @Override
  public List<Phase> plan(GraphLayout layout, GraphOptions options) {
    double rate = options.learningRateOr(learningRate);
    Map<String, Double> rates = new LinkedHashMap<>();
    layout.headLayers().forEach(h -> rates.put(h, rate));
    if (layout.convexHead()) {
      return List.of(new Phase("head", rates, 1, false, false, true));
    }
    return List.of(new Phase("head", rates, options.epochs(), false, true));
  }

  /** True: only the head trains, on frozen activations. */
  @Override
  public boolean headOnly() {
    return true;
  }

  @Override
  public String toString() {
    return describe();
  }
}
