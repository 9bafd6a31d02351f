package dev.graft.report;

import dev.graft.data.ImageDataset;
import dev.graft.data.ImageDecoder;
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

  private Evaluation(
      TransferModel model,
      LabelledFiles labelled,
      float[][] probabilities,
      ClassificationReport singleView) {
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
    LabelledFiles labelled = LabelledFiles.of(data, model.labels());
    List<Path> files = labelled.files();
    try (Predictor p = model.predictor()) {
      float[][] probs = p.probabilities(files, told(progress, "evaluating", files.size()));
      if (!tta) {
        return new Evaluation(model, labelled, probs, null);
      }
      float[][] averaged =
          TestTimeAugmentation.standard()
              .probabilities(p, files, told(progress, "evaluating with TTA", files.size()));
      return new Evaluation(
          model,
          labelled,
          averaged,
          ClassificationReport.of(model.labels(), labelled.actual(), probs));
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
