package dev.graft.train;

import dev.graft.error.GraftException;
import java.util.Arrays;

/**
 * Per-class loss weights for imbalanced data: none, explicit, or "balanced" ({@code n / (k *
 * count[c])}, as scikit-learn computes them), resolved against the training set's class counts.
 */
public sealed interface ClassWeights {

  /** No weighting (every class weighs 1). */
  static ClassWeights none() {
    return None.INSTANCE;
  }

  /** Weights inversely proportional to class frequency: {@code n / (classes * count[c])}. */
  static ClassWeights balanced() {
    return Balanced.INSTANCE;
  }

  /** Explicit weights, one per class in label order. */
  static ClassWeights of(double... weights) {
    return new Explicit(weights.clone());
  }

  /**
   * The weights for a training set with these class counts, or null for none.
   *
   * @throws GraftException when explicit weights do not match the class count
   */
  double[] resolve(int[] classCounts);

  /** Parses the command-line form: {@code none}, {@code balanced}, or comma-separated numbers. */
  static ClassWeights parse(String s) {
    String t = s.trim();
    if (t.equalsIgnoreCase("none")) {
      return none();
    }
    if (t.equalsIgnoreCase("balanced")) {
      return balanced();
    }
    try {
      return of(
          Arrays.stream(t.split(",")).mapToDouble(x -> Double.parseDouble(x.trim())).toArray());
    } catch (NumberFormatException e) {
      throw new GraftException("class weights must be none, balanced or numbers, got '" + s + "'");
    }
  }

  /** No weighting. */
  enum None implements ClassWeights {
    /** The one instance. */
    INSTANCE;

    @Override
    public double[] resolve(int[] classCounts) {
      return null;
    }
  }

  /** Inverse-frequency weighting. */
  enum Balanced implements ClassWeights {
    /** The one instance. */
    INSTANCE;

    @Override
    public double[] resolve(int[] counts) {
      long n = Arrays.stream(counts).asLongStream().sum();
      double[] w = new double[counts.length];
      for (int c = 0; c < counts.length; c++) {
        if (counts[c] == 0) {
          throw new GraftException("balanced class weights: class " + c + " has no examples");
        }
        w[c] = (double) n / ((double) counts.length * counts[c]);
      }
      return w;
    }
  }

  /**
   * Explicit weights.
   *
   * @param weights one per class
   */
  record Explicit(double[] weights) implements ClassWeights {
    @Override
    public double[] resolve(int[] classCounts) {
      if (weights.length != classCounts.length) {
        throw new GraftException(
            "got "
                + weights.length
                + " class weights "
                + Arrays.toString(weights)
                + " for "
                + classCounts.length
                + " classes");
      }
      return weights.clone();
    }
  }
}
