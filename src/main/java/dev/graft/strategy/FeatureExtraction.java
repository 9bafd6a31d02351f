package dev.graft.strategy;

import dev.graft.error.GraftException;

/**
 * Feature extraction: the frozen base's pooled features (global average pooling, or the flattened
 * map for a flatten head) are computed once per image and kept; a small head, softmax regression
 * or one hidden layer, trains on them every epoch. The cheapest strategy by far; augmentation does
 * not apply (each image is seen through the base once).
 */
public final class FeatureExtraction implements Strategy {
  static final FeatureExtraction DEFAULT = new FeatureExtraction(1e-3);

  private final double learningRate;

  private FeatureExtraction(double learningRate) {
    if (!(learningRate > 0)) {
      throw new GraftException("learning rate must be positive, got " + learningRate);
    }
    this.learningRate = learningRate;
  }

  /** Adam learning rate of the head (default 1e-3). */
  public FeatureExtraction learningRate(double lr) {
    return new FeatureExtraction(lr);
  }

  @Override
  public double learningRate() {
    return learningRate;
  }

  @Override
  public String name() {
    return "features";
  }

  @Override
  public String describe() {
    return "feature extraction, head at Adam " + learningRate;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeatureExtraction f && f.learningRate == learningRate;
  }

  @Override
  public int hashCode() {
    return 31 + Double.hashCode(learningRate);
  }

  @Override
  public String toString() {
    return describe();
  }
}
