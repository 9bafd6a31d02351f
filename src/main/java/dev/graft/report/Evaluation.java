package dev.graft.report;

import dev.graft.data.ImageDataset;
import dev.graft.data.ImageDecoder;
import dev.graft.data.SkippedFile;
import dev.graft.error.GraftException;
import dev.graft.metrics.ClassificationReport;
import dev.graft.model.GradCam;
import dev.graft.model.LabelledFiles;
import dev.graft.model.Predictor;
import dev.graft.model.TestTimeAugmentation;
import dev.graft.model.TransferModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * A model measured on labelled image files: the metrics, each image's predicted probabilities, the
 * interpretation (top losses, most-confused pairs) and the report sections that show them (with
 * Grad-CAM galleries when the head reads a feature map). What {@code graft evaluate} and {@code
 * graft train}'s validation both show, computed in one place.
 *
 * <pre>{@code
 * Evaluation e = Evaluation.of(model, ImageFolder.of(Path.of("test")));
 * e.metrics().accuracy();
 * e.addTo(HtmlReport.builder("Test"), "Evaluation on test/").build().write(Path.of("report"));
 * }</pre>
 */
public final class Evaluation {
  /** Images shown per class in the Grad-CAM gallery. */
  private static final int HEATMAPS_PER_CLASS = 2;

  /** Top losses shown in the interpretation. */
  private static final int TOP_LOSSES = 12;

  private final TransferModel model;
  private final List<Path> files;
  private final int[] actual;
  private final float[][] probabilities;
  private final ClassificationReport metrics;
  private final ClassificationReport singleView;
  private final List<SkippedFile> skipped;

  private Evaluation(
      TransferModel model,
      LabelledFiles labelled,
      float[][] probabilities,
      ClassificationReport singleView,
      List<SkippedFile> skipped) {
    this.skipped = List.copyOf(skipped);
    this.model = model;
    this.files = labelled.files();
    this.actual = labelled.actual();
    this.probabilities = probabilities;
    this.metrics = ClassificationReport.of(model.labels(), actual, probabilities);
    this.singleView = singleView;
  }

  /** Where an evaluation reports progress: each pass's name and images done of the total. */
  @FunctionalInterface
  public interface Progress {
    /** {@code done} of {@code total} images of the pass {@code pass} have been predicted. */
    void update(String pass, int done, int total);
  }

  /**
   * The model on {@code data}, one view an image, in the predictor's decode-ahead batches.
   *
   * @throws dev.graft.error.GraftException when {@code data}'s classes are not the model's, or
   *     naming a file that cannot be decoded
   */
  public static Evaluation of(TransferModel model, ImageDataset data) throws IOException {
    return of(model, data, false, null);
  }

  /**
   * The model on {@code data}; with {@code tta}, the probabilities are those of {@link
   * TestTimeAugmentation#standard()} and {@link #singleView()} keeps the one-view metrics too.
   *
   * @param progress told about each pass ("evaluating", then "evaluating with TTA"); may be null
   * @throws dev.graft.error.GraftException when {@code data}'s classes are not the model's, or
   *     naming a file that cannot be decoded
   */
  public static Evaluation of(
      TransferModel model, ImageDataset data, boolean tta, Progress progress) throws IOException {
    LabelledFiles all = LabelledFiles.of(data, model.labels());
    try (Predictor p = model.predictor()) {
      Predictor.FileProbabilities read =
          p.probabilities(all.files(), true, told(progress, "evaluating", all.files().size()));
      if (read.files().isEmpty()) {
        throw new GraftException(
            "none of the "
                + all.files().size()
                + " image(s) could be read (first: "
                + read.skipped().get(0)
                + ")");
      }
      LabelledFiles labelled = all.only(read.files());
      List<Path> files = labelled.files();
      float[][] probs = read.probabilities();
      if (!tta) {
        return new Evaluation(model, labelled, probs, null, read.skipped());
      }
      float[][] averaged =
          TestTimeAugmentation.standard()
              .probabilities(p, files, told(progress, "evaluating with TTA", files.size()));
      return new Evaluation(
          model,
          labelled,
          averaged,
          ClassificationReport.of(model.labels(), labelled.actual(), probs),
          read.skipped());
    }
  }

  private static IntConsumer told(Progress progress, String pass, int total) {
    return progress == null ? null : done -> progress.update(pass, done, total);
  }

  /** Accuracy, per-class precision/recall/F1, confusion, log-loss of the probabilities used. */
  public ClassificationReport metrics() {
    return metrics;
  }

  /** The one-view metrics when the evaluation used test-time augmentation. */
  public Optional<ClassificationReport> singleView() {
    return Optional.ofNullable(singleView);
  }

  /**
   * The files left out because they could not be read (Graft's skip policy: each was logged with a
   * warning naming it); the metrics are those of the rest.
   */
  public List<SkippedFile> skipped() {
    return skipped;
  }

  /** The image files, in the order of {@link #actual()} and {@link #probabilities()}. */
  public List<Path> files() {
    return files;
  }

  /** Each image's true class index, in the model's label order (a copy). */
  public int[] actual() {
    return actual.clone();
  }

  /** Each image's predicted probabilities, {@code [images][classes]} (a copy). */
  public float[][] probabilities() {
    float[][] copy = new float[probabilities.length][];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = probabilities[i].clone();
    }
    return copy;
  }

  /** The top losses and most-confused pairs. */
  public Interpretation interpretation() {
    return Interpretation.of(model.labels(), files, actual, probabilities);
  }

  /**
   * Adds the evaluation's sections to a report: the TTA comparison (when used), the metrics under
   * {@code heading}, the interpretation and, for a head that reads a feature map, Grad-CAM of the
   * images of each class the model was surest of.
   *
   * @throws IOException naming an image that cannot be read again for its heatmap
   */
  public HtmlReport.Builder addTo(HtmlReport.Builder rb, String heading) throws IOException {
    if (singleView != null) {
      rb.table(
          "Test-time augmentation",
          List.of("predictions", "accuracy", "macro-F1"),
          List.of(
              List.of("single view", pct(singleView.accuracy()), f4(singleView.macroF1())),
              List.of("TTA (4 views)", pct(metrics.accuracy()), f4(metrics.macroF1()))));
    }
    if (!skipped.isEmpty()) {
      rb.text(
          "Skipped files",
          skipped.size()
              + " file(s) could not be read and are not in the figures below: "
              + String.join("; ", skipped.stream().limit(20).map(SkippedFile::toString).toList())
              + (skipped.size() > 20 ? "; ..." : ""));
    }
    rb.evaluation(heading, metrics)
        .interpretation("Interpretation: what went wrong", interpretation(), TOP_LOSSES);
    Optional<GradCam> cam = GradCam.of(model);
    if (cam.isPresent()) {
      rb.heatmaps(
          "Grad-CAM: where the evidence is",
          "Each image as the network saw it, and the same with the evidence for its true class"
              + " overlaid (red: strongest), for the images of each class the model was surest of.",
          heatmaps(cam.get()));
    }
    return rb;
  }

  private List<HtmlReport.Builder.HeatmapImage> heatmaps(GradCam cam) throws IOException {
    List<HtmlReport.Builder.HeatmapImage> shown = new ArrayList<>();
    for (int c = 0; c < model.labels().size(); c++) {
      final int cls = c;
      List<Integer> rows = new ArrayList<>();
      for (int i = 0; i < actual.length; i++) {
        if (actual[i] == cls) {
          rows.add(i);
        }
      }
      rows.sort((a, b) -> Float.compare(probabilities[b][cls], probabilities[a][cls]));
      for (int i : rows.subList(0, Math.min(HEATMAPS_PER_CLASS, rows.size()))) {
        var h = cam.map(ImageDecoder.read(files.get(i)), cls);
        shown.add(
            new HtmlReport.Builder.HeatmapImage(
                h.input(),
                h.heat(),
                model.labels().get(cls)
                    + String.format(Locale.ROOT, " (p %.2f)", probabilities[i][cls])));
      }
    }
    return shown;
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  private static String f4(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
