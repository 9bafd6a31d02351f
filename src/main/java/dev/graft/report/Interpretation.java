package dev.graft.report;

import dev.graft.error.GraftException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a model got wrong and how badly, per image (fastai's {@code ClassificationInterpretation}):
 * the images with the highest loss, and the pairs of classes confused most often. Built from the
 * images, their true classes and the predicted probabilities; {@link
 * HtmlReport.Builder#interpretation} draws it.
 *
 * <pre>{@code
 * Interpretation i = Interpretation.of(labels, files, actual, probabilities);
 * i.topLosses(9);          // highest cross-entropy first
 * i.mostConfused(5);       // (actual, predicted, count), most frequent first
 * }</pre>
 */
public final class Interpretation {
  private final List<String> labels;
  private final List<Path> images;
  private final int[] actual;
  private final float[][] probabilities;

  private Interpretation(
      List<String> labels, List<Path> images, int[] actual, float[][] probabilities) {
    this.labels = List.copyOf(labels);
    this.images = List.copyOf(images);
    this.actual = actual.clone();
    this.probabilities = probabilities.clone();
  }

  /**
   * @param labels class names, in the model's order
   * @param images the image files, in the order of the other arguments
   * @param actual each image's true class index
   * @param probabilities each image's predicted probabilities {@code [images][classes]}
   */
  public static Interpretation of(
      List<String> labels, List<Path> images, int[] actual, float[][] probabilities) {
    if (images.size() != actual.length || actual.length != probabilities.length) {
      throw new GraftException(
          "interpretation needs one class and one probability row per image, got "
              + images.size()
              + " images, "
              + actual.length
              + " classes, "
              + probabilities.length
              + " rows");
    }
    for (int i = 0; i < actual.length; i++) {
      if (actual[i] < 0 || actual[i] >= labels.size()) {
        throw new GraftException("class index " + actual[i] + " outside the labels " + labels);
      }
      if (probabilities[i].length != labels.size()) {
        throw new GraftException(
            "row "
                + i
                + " has "
                + probabilities[i].length
                + " probabilities for "
                + labels.size()
                + " classes");
      }
    }
    return new Interpretation(labels, images, actual, probabilities);
  }

  /**
   * One image's outcome.
   *
   * @param image the file
   * @param actual true class name
   * @param predicted predicted class name
   * @param probability the predicted class's probability
   * @param actualProbability the true class's probability
   * @param loss cross-entropy, {@code -ln(actualProbability)}
   */
  public record Case(
      Path image,
      String actual,
      String predicted,
      double probability,
      double actualProbability,
      double loss) {}

  /**
   * How often one class was taken for another.
   *
   * @param actual the true class
   * @param predicted the class predicted instead
   * @param count how many images
   */
  public record Confusion(String actual, String predicted, int count) {}

  /** Class names. */
  public List<String> labels() {
    return labels;
  }

  /** The {@code n} images with the highest loss, highest first (ties: file order). */
  public List<Case> topLosses(int n) {
    List<Case> all = new ArrayList<>();
    for (int i = 0; i < actual.length; i++) {
      float[] p = probabilities[i];
      int best = 0;
      for (int c = 1; c < p.length; c++) {
        if (p[c] > p[best]) {
          best = c;
        }
      }
      double pa = p[actual[i]];
      all.add(
          new Case(
              images.get(i),
              labels.get(actual[i]),
              labels.get(best),
              p[best],
              pa,
              -Math.log(Math.max(pa, 1e-10))));
    }
    all.sort(Comparator.comparingDouble(Case::loss).reversed());
    return all.subList(0, Math.min(n, all.size()));
  }

  /** The {@code n} most frequent (actual, predicted) pairs of different classes, most first. */
  public List<Confusion> mostConfused(int n) {
    int k = labels.size();
    int[][] counts = new int[k][k];
    for (int i = 0; i < actual.length; i++) {
      float[] p = probabilities[i];
      int best = 0;
      for (int c = 1; c < p.length; c++) {
        if (p[c] > p[best]) {
          best = c;
        }
      }
      counts[actual[i]][best]++;
    }
    List<Confusion> pairs = new ArrayList<>();
    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        if (a != b && counts[a][b] > 0) {
          pairs.add(new Confusion(labels.get(a), labels.get(b), counts[a][b]));
        }
      }
    }
    pairs.sort(Comparator.comparingInt(Confusion::count).reversed());
    return pairs.subList(0, Math.min(n, pairs.size()));
  }
}
