package dev.graft.metrics;

import dev.graft.error.GraftException;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How well a classifier did on a labelled set: accuracy, top-k accuracy, per-class precision,
 * recall and F1, macro-averaged F1, the confusion matrix and the mean log loss.
 *
 * <p>The predicted class of an example is the one with the highest probability (the lowest index on
 * ties). A class that is never predicted has precision 0, a class that never occurs has recall 0
 * (scikit-learn's {@code zero_division=0}); macro-F1 averages over all classes.
 *
 * <pre>{@code
 * ClassificationReport r = ClassificationReport.of(labels, actual, probabilities);
 * log.info("accuracy {} macro-F1 {}", r.accuracy(), r.macroF1());
 * }</pre>
 */
public final class ClassificationReport {
  private static final double MIN_PROBABILITY = 1e-15;

  private final List<String> labels;
  private final int[] actual;
  private final int[] predicted;
  private final int[][] confusion;

  /**
   * rank[i] = how many classes have a strictly higher probability than the true class of example i.
   */
  private final int[] trueRank;

  private final double logLoss;

  private ClassificationReport(
      List<String> labels, int[] actual, int[] predicted, int[] trueRank, double logLoss) {
    this.labels = List.copyOf(labels);
    this.actual = actual;
    this.predicted = predicted;
    this.trueRank = trueRank;
    this.logLoss = logLoss;
    int k = labels.size();
    this.confusion = new int[k][k];
    for (int i = 0; i < actual.length; i++) {
      confusion[actual[i]][predicted[i]]++;
    }
  }

  /**
   * Builds a report.
   *
   * @param labels class names, index = class
   * @param actual true class of each example
   * @param probabilities one row per example, one column per class
   * @throws GraftException when the shapes disagree or a class index is out of range
   */
  public static ClassificationReport of(
      List<String> labels, int[] actual, float[][] probabilities) {
    int k = labels.size();
    if (k == 0) {
      throw new GraftException("a classification report needs at least one label");
    }
    if (actual.length != probabilities.length) {
      throw new GraftException(
          "got "
              + actual.length
              + " true labels but "
              + probabilities.length
              + " rows of probabilities");
    }
    int n = actual.length;
    int[] pred = new int[n];
    int[] rank = new int[n];
    double loss = 0;
    for (int i = 0; i < n; i++) {
      float[] p = probabilities[i];
      if (p.length != k) {
        throw new GraftException("row " + i + " has " + p.length + " probabilities, expected " + k);
      }
      int a = actual[i];
      if (a < 0 || a >= k) {
        throw new GraftException(
            "true class " + a + " of example " + i + " is outside 0.." + (k - 1));
      }
      int best = 0;
      int higher = 0;
      for (int c = 0; c < k; c++) {
        if (p[c] > p[best]) {
          best = c;
        }
        if (p[c] > p[a]) {
          higher++;
        }
      }
      pred[i] = best;
      rank[i] = higher;
      loss -= Math.log(Math.max(MIN_PROBABILITY, p[a]));
    }
    return new ClassificationReport(
        labels, actual.clone(), pred, rank, n == 0 ? Double.NaN : loss / n);
  }

  /**
   * Builds a report from network output and one-hot labels, as DL4J hands them out.
   *
   * @param labels class names
   * @param oneHot {@code [N, classes]} one-hot (or soft) labels; the true class is the arg-max
   * @param probabilities {@code [N, classes]} predicted probabilities
   */
  public static ClassificationReport of(
      List<String> labels, INDArray oneHot, INDArray probabilities) {
    if (oneHot.rank() != 2
        || probabilities.rank() != 2
        || oneHot.size(0) != probabilities.size(0)
        || oneHot.size(1) != probabilities.size(1)) {
      throw new GraftException(
          "labels "
              + java.util.Arrays.toString(oneHot.shape())
              + " and probabilities "
              + java.util.Arrays.toString(probabilities.shape())
              + " must both be [N, classes]");
    }
    int n = (int) oneHot.size(0);
    int k = (int) oneHot.size(1);
    int[] actual = new int[n];
    float[] l = oneHot.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
    float[] flat =
        probabilities.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
    float[][] p = new float[n][];
    for (int i = 0; i < n; i++) {
      p[i] = java.util.Arrays.copyOfRange(flat, i * k, (i + 1) * k);
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (l[i * k + c] > l[i * k + best]) {
          best = c;
        }
      }
      actual[i] = best;
    }
    return of(labels, actual, p);
  }

  /** Class names, index = class. */
  public List<String> labels() {
    return labels;
  }

  /** Number of examples. */
  public int size() {
    return actual.length;
  }

  /** Number of classes. */
  public int numClasses() {
    return labels.size();
  }

  /** Fraction of examples whose most probable class is the true one (NaN when empty). */
  public double accuracy() {
    return topK(1);
  }

  /** Fraction of examples whose true class is among the {@code k} most probable ones. */
  public double topK(int k) {
    if (k < 1) {
      throw new GraftException("top-k needs k >= 1, got " + k);
    }
    if (actual.length == 0) {
      return Double.NaN;
    }
    int hits = 0;
    for (int r : trueRank) {
      if (r < k) {
        hits++;
      }
    }
    return (double) hits / actual.length;
  }

  /** Of the examples predicted as class {@code c}, the fraction that are {@code c}. */
  public double precision(int c) {
    checkClass(c);
    int predictedAsC = 0;
    for (int[] row : confusion) {
      predictedAsC += row[c];
    }
    return predictedAsC == 0 ? 0 : (double) confusion[c][c] / predictedAsC;
  }

  /** Of the examples of class {@code c}, the fraction predicted as {@code c}. */
  public double recall(int c) {
    checkClass(c);
    int s = support(c);
    return s == 0 ? 0 : (double) confusion[c][c] / s;
  }

  /** Harmonic mean of precision and recall of class {@code c} (0 when both are 0). */
  public double f1(int c) {
    double p = precision(c);
    double r = recall(c);
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  /** Number of examples of class {@code c}. */
  public int support(int c) {
    checkClass(c);
    int s = 0;
    for (int v : confusion[c]) {
      s += v;
    }
    return s;
  }

  /** Unweighted mean of the per-class F1 scores. */
  public double macroF1() {
    double s = 0;
    for (int c = 0; c < labels.size(); c++) {
      s += f1(c);
    }
    return s / labels.size();
  }

  /** Mean cross-entropy of the true class, {@code -mean(log p[true])} (NaN when empty). */
  public double logLoss() {
    return logLoss;
  }

  /** Confusion matrix, {@code [actual][predicted]} counts (a copy). */
  public int[][] confusion() {
    int[][] copy = new int[confusion.length][];
    for (int i = 0; i < confusion.length; i++) {
      copy[i] = confusion[i].clone();
    }
    return copy;
  }

  /** The true class of each example (a copy). */
  public int[] actual() {
    return actual.clone();
  }

  /** The predicted (most probable) class of each example (a copy). */
  public int[] predicted() {
    return predicted.clone();
  }

  private void checkClass(int c) {
    if (c < 0 || c >= labels.size()) {
      throw new GraftException("class index " + c + " is outside 0.." + (labels.size() - 1));
    }
  }

  /** A fixed-width text table: per-class precision, recall, F1, support, then the totals. */
  @Override
  public String toString() {
    int w = Math.max(9, labels.stream().mapToInt(String::length).max().orElse(5) + 1);
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "%-" + w + "s %9s %9s %9s %8s%n",
            "class",
            "precision",
            "recall",
            "f1",
            "support"));
    for (int c = 0; c < labels.size(); c++) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%-" + w + "s %9.4f %9.4f %9.4f %8d%n",
              labels.get(c),
              precision(c),
              recall(c),
              f1(c),
              support(c)));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "accuracy %.4f  macro-F1 %.4f  log-loss %.4f  n=%d",
            accuracy(),
            macroF1(),
            logLoss,
            size()));
    return sb.toString();
  }
}
