package dev.graft.strategy;

import dev.graft.error.GraftException;
import dev.graft.error.Ranges;

/**
 * What the assembled graph needs to know besides base, head and strategy.
 *
 * @param numClasses width of the softmax output
 * @param classWeights per-class loss weights, or null for none
 * @param weightDecay decoupled weight decay coefficient of trainable weights (0: none)
 * @param seed seed for the head's initialisation and dropout
 * @param epochs training epochs in all (for fine-tune, the head-only warm-up epochs count within
 *     them)
 * @param learningRate overrides the strategy's main learning rate; NaN keeps it
 */
public record GraphOptions(
    int numClasses,
    double[] classWeights,
    double weightDecay,
    long seed,
    int epochs,
    double learningRate) {

  /** Validates. */
  public GraphOptions {
    if (numClasses < 2) {
      throw new GraftException("need at least 2 classes to train a classifier, got " + numClasses);
    }
    if (classWeights != null) {
      if (classWeights.length != numClasses) {
        throw new GraftException(
            "got " + classWeights.length + " class weights for " + numClasses + " classes");
      }
      for (double w : classWeights) {
        if (!(w >= 0) || Double.isInfinite(w)) {
          throw new GraftException("class weights must be finite and >= 0, got " + w);
        }
      }
      classWeights = classWeights.clone();
    }
    Ranges.weightDecay(weightDecay);
    Ranges.epochs(epochs);
    if (!Double.isNaN(learningRate)) { // NaN: the strategy's own
      Ranges.learningRate(learningRate);
    }
  }

  /** Defaults: no class weights, no weight decay, seed 42, 10 epochs, the strategy's rate. */
  public static GraphOptions of(int numClasses) {
    return new GraphOptions(numClasses, null, 0, 42, 10, Double.NaN);
  }

  /** The {@link #learningRate()} override, or {@code strategyRate} when there is none. */
  public double learningRateOr(double strategyRate) {
    return Double.isNaN(learningRate) ? strategyRate : learningRate;
  }

  /** A copy with another epoch count. */
  public GraphOptions withEpochs(int e) {
    return new GraphOptions(numClasses, classWeights, weightDecay, seed, e, learningRate);
  }

  /** A copy with another seed. */
  public GraphOptions withSeed(long s) {
    return new GraphOptions(numClasses, classWeights, weightDecay, s, epochs, learningRate);
  }

  /** A copy with another learning rate. */
  public GraphOptions withLearningRate(double lr) {
    return new GraphOptions(numClasses, classWeights, weightDecay, seed, epochs, lr);
  }

  /** A copy with class weights. */
  public GraphOptions withClassWeights(double[] w) {
    return new GraphOptions(numClasses, w, weightDecay, seed, epochs, learningRate);
  }

  /** A copy with weight decay. */
  public GraphOptions withWeightDecay(double wd) {
    return new GraphOptions(numClasses, classWeights, wd, seed, epochs, learningRate);
  }
}
