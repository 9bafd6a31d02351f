package dev.graft.data;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * An immutable list of labelled image files: the labels (class names, index = label) and the
 * samples, in a stable order. Made by {@link ImageFolder} or {@link ImageList}, or directly with
 * {@link #of(List, List)}; split, subsampled and relabelled into new datasets that keep the same
 * label list (so indices mean the same thing in the train and validation parts).
 *
 * <pre>{@code
 * ImageDataset all = ImageFolder.of(Path.of("flowers"));
 * log.info(all.describe());                          // class counts and imbalance
 * Split split = all.split(0.8, 42);                  // stratified, reproducible
 * ThreeWaySplit three = all.split(0.7, 0.15, 42);    // train / validation / test
 * ImageDataset few = all.perClass(10, 42);           // 10 images of each class
 * }</pre>
 *
 * <p>Why one class of this size: scanning, describing and splitting (two-way, three-way, per class)
 * all work on the same list of labelled files and their stratification.
 */
public final class ImageDataset {

  private final List<String> labels;
  private final List<Sample> samples;
  private final List<SkippedFile> skipped;
  private final String source;

  ImageDataset(
      List<String> labels, List<Sample> samples, List<SkippedFile> skipped, String source) {
    this.labels = List.copyOf(labels);
    this.samples = List.copyOf(samples);
    this.skipped = List.copyOf(skipped);
    this.source = source;
    if (this.labels.isEmpty()) {
      throw new GraftException("a dataset needs at least one label" + from());
    }
    if (new HashSet<>(this.labels).size() != this.labels.size()) {
      throw new GraftException("duplicate labels " + this.labels + from());
    }
    for (Sample s : this.samples) {
      if (s.label() < 0 || s.label() >= this.labels.size()) {
        throw new GraftException(
            "sample "
                + s.path()
                + " has label index "
                + s.label()
                + ", outside 0.."
                + (this.labels.size() - 1)
                + from());
      }
    }
  }

  /**
   * A dataset from labels and samples.
   *
   * @param labels the class names; a sample's label indexes this list
   * @param samples the labelled files, in the order to keep
   * @throws GraftException if labels are empty or repeated or a sample's label is out of range
   */
  public static ImageDataset of(List<String> labels, List<Sample> samples) {
    return new ImageDataset(labels, samples, List.of(), "");
  }

  private String from() {
    return source == null || source.isEmpty() ? "" : " (" + source + ")";
  }

  /** The class names; index {@code i} is label {@code i}. */
  public List<String> labels() {
    return labels;
  }

  /** The labelled files in a stable order. */
  public List<Sample> samples() {
    return samples;
  }

  /** Number of samples. */
  public int size() {
    return samples.size();
  }

  /** Number of classes (labels), including any without samples in this dataset. */
  public int numClasses() {
    return labels.size();
  }

  /** Number of samples of each class, indexed by label. */
  public int[] classCounts() {
    int[] counts = new int[labels.size()];
    for (Sample s : samples) {
      counts[s.label()]++;
    }
    return counts;
  }

  /**
   * Files the scan that made this dataset left out (zero-byte, not an image, unreadable), with the
   * reason; datasets derived from it by splitting or filtering report the same list.
   */
  public List<SkippedFile> skipped() {
    return skipped;
  }

  /** Where the samples came from (a folder or CSV path), or an empty string. */
  public String source() {
    return source;
  }

  /**
   * Largest class count divided by the smallest non-empty one (1 for balanced data, 0 when the
   * dataset is empty).
   */
  public double imbalance() {
    int max = 0;
    int min = Integer.MAX_VALUE;
    for (int c : classCounts()) {
      if (c > 0) {
        max = Math.max(max, c);
        min = Math.min(min, c);
      }
    }
    return max == 0 ? 0 : (double) max / min;
  }

  /**
   * A multi-line summary: size, classes with their counts and shares, imbalance, skipped files.
   * Logged by the scans and meant to be logged again before training.
   */
  public String describe() {
    int[] counts = classCounts();
    StringBuilder sb = new StringBuilder();
    sb.append(size())
        .append(size() == 1 ? " image, " : " images, ")
        .append(numClasses())
        .append(numClasses() == 1 ? " class" : " classes");
    if (!source.isEmpty()) {
      sb.append(" from ").append(source);
    }
    int width = 5;
    for (String l : labels) {
      width = Math.max(width, l.length());
    }
    for (int c = 0; c < counts.length; c++) {
      double share = size() == 0 ? 0 : 100.0 * counts[c] / size();
      sb.append(
          String.format(
              Locale.ROOT, "%n  %-" + width + "s %7d  %5.1f %%", labels.get(c), counts[c], share));
    }
    int min = Arrays.stream(counts).min().orElse(0);
    int max = Arrays.stream(counts).max().orElse(0);
    sb.append(
        String.format(
            Locale.ROOT,
            "%n  imbalance %.2f (largest class %d, smallest %d)",
            imbalance(),
            max,
            min));
    if (min == 0 && size() > 0) {
      sb.append(" - some classes have no images here");
    } else if (imbalance() >= 3) {
      sb.append(" - consider class weights or more images of the small classes");
    }
    if (!skipped.isEmpty()) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%n  skipped %d unreadable file%s:",
              skipped.size(),
              skipped.size() == 1 ? "" : "s"));
      int shown = 0;
      for (SkippedFile s : skipped) {
        if (shown++ == 20) {
          sb.append(String.format(Locale.ROOT, "%n    ... and %d more", skipped.size() - 20));
          break;
        }
        sb.append(String.format(Locale.ROOT, "%n    %s", s));
      }
    }
    return sb.toString();
  }

  /**
   * A stratified split: within every class, a seeded shuffle puts {@code round(n * trainFraction)}
   * samples in the training part and the rest in validation, keeping at least one in each part for
   * a class of two or more. Samples keep this dataset's order within each part. The same seed
   * always gives the same split, and a class's split does not depend on the others.
   *
   * @param trainFraction share of each class for training, strictly between 0 and 1
   * @param seed shuffle seed
   * @throws GraftException if the fraction is not strictly between 0 and 1
   */
  public Split split(double trainFraction, long seed) {
    if (!(trainFraction > 0 && trainFraction < 1)) {
      throw new GraftException(
          "train fraction must be strictly between 0 and 1, got " + trainFraction);
    }
    int[] part = assign(new double[] {trainFraction, 1 - trainFraction}, seed);
    return new Split(subset(part, 0), subset(part, 1));
  }

  /**
   * A stratified three-way split (see {@link #split(double, long)}): within every class, {@code
   * trainFraction} for training, {@code validationFraction} for validation and the rest for the
   * test part, each part non-empty for a class of three or more.
   *
   * @throws GraftException unless both fractions are positive and sum to less than 1
   */
  public ThreeWaySplit split(double trainFraction, double validationFraction, long seed) {
    if (!(trainFraction > 0 && validationFraction > 0 && trainFraction + validationFraction < 1)) {
      throw new GraftException(
          "train and validation fractions must be positive and sum to less "
              + "than 1, got "
              + trainFraction
              + " and "
              + validationFraction);
    }
    int[] part =
        assign(
            new double[] {
              trainFraction, validationFraction, 1 - trainFraction - validationFraction
            },
            seed);
    return new ThreeWaySplit(subset(part, 0), subset(part, 1), subset(part, 2));
  }

  /** For every sample, the part it goes to. */
  private int[] assign(double[] fractions, long seed) {
    int[] part = new int[samples.size()];
    List<List<Integer>> byClass = indicesByClass();
    for (int c = 0; c < byClass.size(); c++) {
      List<Integer> idx = byClass.get(c);
      shuffle(idx, seed, c);
      int[] n = partSizes(idx.size(), fractions);
      int pos = 0;
      for (int p = 0; p < n.length; p++) {
        for (int k = 0; k < n[p]; k++) {
          part[idx.get(pos++)] = p;
        }
      }
    }
    return part;
  }

  /** Sizes by largest remainder, then every part made non-empty when the class is big enough. */
  static int[] partSizes(int count, double[] fractions) {
    int parts = fractions.length;
    int[] n = new int[parts];
    double[] rest = new double[parts];
    int assigned = 0;
    for (int p = 0; p < parts; p++) {
      double exact = count * fractions[p];
      n[p] = (int) Math.floor(exact + 1e-9);
      rest[p] = exact - n[p];
      assigned += n[p];
    }
    while (assigned < count) {
      int best = 0;
      for (int p = 1; p < parts; p++) {
        if (rest[p] > rest[best] + 1e-12) {
          best = p;
        }
      }
      n[best]++;
      rest[best] = -1;
      assigned++;
    }
    if (count >= parts) {
      for (int p = 0; p < parts; p++) {
        if (n[p] == 0) {
          int largest = 0;
          for (int q = 1; q < parts; q++) {
            if (n[q] > n[largest]) {
              largest = q;
            }
          }
          n[largest]--;
          n[p]++;
        }
      }
    }
    return n;
  }

  private ImageDataset subset(int[] part, int which) {
    List<Sample> keep = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      if (part[i] == which) {
        keep.add(samples.get(i));
      }
    }
    return new ImageDataset(labels, keep, skipped, source);
  }

  private List<List<Integer>> indicesByClass() {
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < labels.size(); c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < samples.size(); i++) {
      byClass.get(samples.get(i).label()).add(i);
    }
    return byClass;
  }

  /** Seeded Fisher-Yates shuffle; each class gets its own stream so classes do not interact. */
  private static void shuffle(List<Integer> idx, long seed, int cls) {
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + cls);
    for (int i = idx.size() - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      Integer t = idx.get(i);
      idx.set(i, idx.get(j));
      idx.set(j, t);
    }
  }

  /**
   * A stratified subsample: {@code n} randomly chosen samples of each class (all of a class that
   * has fewer), in this dataset's order.
   *
   * @throws GraftException if {@code n < 1}
   */
  public ImageDataset perClass(int n, long seed) {
    if (n < 1) {
      throw new GraftException("samples per class must be at least 1, got " + n);
    }
    boolean[] keep = new boolean[samples.size()];
    List<List<Integer>> byClass = indicesByClass();
    for (int c = 0; c < byClass.size(); c++) {
      List<Integer> idx = byClass.get(c);
      shuffle(idx, seed, c);
      for (int k = 0; k < Math.min(n, idx.size()); k++) {
        keep[idx.get(k)] = true;
      }
    }
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      if (keep[i]) {
        out.add(samples.get(i));
      }
    }
    return new ImageDataset(labels, out, skipped, source);
  }

  /**
   * This dataset without the files left out while reading it ({@link SkippedFile}, Graft's skip
   * policy), which join {@link #skipped()}; labels and source stay.
   */
  public ImageDataset without(List<SkippedFile> left) {
    java.util.Set<java.nio.file.Path> bad = new java.util.HashSet<>();
    left.forEach(f -> bad.add(f.path()));
    List<Sample> out = samples.stream().filter(s -> !bad.contains(s.path())).toList();
    List<SkippedFile> all = new ArrayList<>(skipped);
    all.addAll(left);
    return new ImageDataset(labels, out, all, source);
  }

  /**
   * Only the samples of the given labels, relabelled {@code 0..k-1} in the given order.
   *
   * @throws GraftException naming a label that is not in this dataset, or a repeated one
   */
  public ImageDataset filterLabels(List<String> keep) {
    Map<Integer, Integer> remap = new HashMap<>();
    for (int i = 0; i < keep.size(); i++) {
      String l = Objects.requireNonNull(keep.get(i), "label");
      int old = labels.indexOf(l);
      if (old < 0) {
        throw new GraftException("unknown label '" + l + "': this dataset has " + labels + from());
      }
      if (remap.put(old, i) != null) {
        throw new GraftException("label '" + l + "' given twice in " + keep);
      }
    }
    List<Sample> out = new ArrayList<>();
    for (Sample s : samples) {
      Integer nl = remap.get(s.label());
      if (nl != null) {
        out.add(new Sample(s.path(), nl));
      }
    }
    return new ImageDataset(keep, out, skipped, source);
  }

  /**
   * This dataset's samples relabelled to another label list, matched by name (for evaluating a
   * model whose labels are in a different order).
   *
   * @throws GraftException naming a label of this dataset that has samples but is not in {@code
   *     target}
   */
  public ImageDataset relabel(List<String> target) {
    int[] counts = classCounts();
    int[] map = new int[labels.size()];
    for (int c = 0; c < labels.size(); c++) {
      map[c] = target.indexOf(labels.get(c));
      if (map[c] < 0 && counts[c] > 0) {
        throw new GraftException(
            "label '" + labels.get(c) + "'" + from() + " is not one of " + target);
      }
    }
    List<Sample> out = new ArrayList<>(samples.size());
    for (Sample s : samples) {
      out.add(new Sample(s.path(), map[s.label()]));
    }
    return new ImageDataset(target, out, skipped, source);
  }

  @Override
  public String toString() {
    return "ImageDataset["
        + size()
        + " images, "
        + numClasses()
        + " classes"
        + (source.isEmpty() ? "" : ", " + source)
        + "]";
  }
}
