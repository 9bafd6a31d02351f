package dev.graft.strategy;

/**
 * Feature extraction: the frozen base's pooled features (global average pooling, or the flattened
 * map for a flatten head) are computed once per image and kept; a small head, softmax regression or
 * one hidden layer, trains on them. With no head given it is a logistic regression fitted to
 * convergence ({@link dev.graft.head.Head#logisticRegression()}); a head given trains by Adam
 * epochs. The cheapest strategy by far; augmentation does not apply (each image is seen through the
 * base once).
 *
 * <p>Its plan is {@link FrozenBase}'s ({@link HeadOnly}): what differs is that it refuses
 * augmentation ({@link #acceptsAugmentation()}), so the frozen activations are always cached.
 */
public final class FeatureExtraction extends HeadOnly {
  static final FeatureExtraction DEFAULT = new FeatureExtraction(1e-3);

  private FeatureExtraction(double learningRate) {
    super(learningRate);
  }

  /** Adam learning rate of the head (default 1e-3). */
  public FeatureExtraction learningRate(double lr) {
    return new FeatureExtraction(lr);
  }

  @Override
  public String name() {
    return "features";
  }

  @Override
  public FeatureExtraction withLearningRate(double lr) {
    return learningRate(lr);
  }

  @Override
  public String describe() {
    return "feature extraction, head at Adam " + learningRate();
  }

  /** "feature extraction": the head is fitted by L-BFGS, no rate applies. */
  @Override
  public String describeWithoutRate() {
    return "feature extraction";
  }

  /** True: with no head given, a logistic regression is fitted on the cached features. */
  @Override
  public boolean defaultsToLogisticRegression() {
    return true;
  }

  /** False: each image goes through the base once, so there is nothing to augment. */
  @Override
  public boolean acceptsAugmentation() {
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeatureExtraction f && f.learningRate() == learningRate();
  }

  @Override
  public int hashCode() {
    return 31 + Double.hashCode(learningRate());
  }
}
