package dev.graft.report;

import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.metrics.TrainingHealth;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One self-contained HTML page describing a training run (or several, for the demo): learning
 * curves (loss and accuracy per epoch, training vs validation), the confusion matrix, per-class
 * precision/recall/F1, and the run's settings. Charts are XChart PNGs embedded as base64, so the
 * page is one file with no outside references.
 *
 * <pre>{@code
 * Path page = HtmlReport.builder("flowers: resnet50, finetune")
 *     .settings(model.info().settings())
 *     .learningCurves("Learning curves", model.info().history())
 *     .evaluation("Validation set", report)
 *     .build()
 *     .write(Path.of("report"));     // report/index.html
 * }</pre>
 *
 * Every section is an {@code <section>} with an {@code id}; tables have a {@code class} naming what
 * they hold ({@code settings}, {@code confusion}, {@code per-class}, {@code summary}), which is
 * what tests and scripts can rely on.
 *
 * <p>Why one class of this size: each section is one builder method writing its own markup, and
 * they share the escaping, number formats and page style; the charts and thumbnails are in {@code
 * Charts} and {@code Thumbnails}, what the interpretation section shows in {@link Interpretation}.
 */
public final class HtmlReport {
  /** File name the report is written under inside its directory. */
  public static final String FILE_NAME = "index.html";

  private final String title;
  private final List<String> sections;

  private HtmlReport(String title, List<String> sections) {
    this.title = title;
    this.sections = List.copyOf(sections);
  }

  /** Starts a report with the page title. */
  public static Builder builder(String title) {
    return new Builder(title);
  }

  /** The whole page. */
  public String html() {
    StringBuilder sb = new StringBuilder(1 << 16);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(esc(title))
        .append("</title>\n<style>\n")
        .append(CSS)
        .append("</style>\n")
        .append("</head>\n<body>\n<header><h1>")
        .append(esc(title))
        .append("</h1>\n<p class=\"meta\">")
        .append("Graft report, generated ")
        .append(esc(Instant.now().toString().replaceFirst("\\.\\d+Z$", "Z")))
        .append("</p></header>\n<main>\n");
    sections.forEach(sb::append);
    sb.append("</main>\n</body>\n</html>\n");
    return sb.toString();
  }

  /**
   * Writes the page to {@code dir/index.html} (atomically) and returns its path.
   *
   * @throws IOException if the directory or file cannot be written
   */
  public Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path target = dir.resolve(FILE_NAME);
    Path tmp = dir.resolve("." + FILE_NAME + ".tmp");
    Files.writeString(tmp, html(), StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  /** Assembles a report, section by section, in the order the methods are called. */
  public static final class Builder {
    private final String title;
    private final List<String> sections = new ArrayList<>();
    private int counter;

    private Builder(String title) {
      this.title = title == null || title.isBlank() ? "Graft report" : title;
    }

    /** A paragraph of plain text (escaped) under an optional heading. */
    public Builder text(String heading, String paragraph) {
      StringBuilder sb = open("notes", heading);
      sb.append("<p>").append(esc(paragraph)).append("</p>\n");
      return close(sb);
    }

    /** The run's settings as a two-column table (class {@code settings}). */
    public Builder settings(Map<String, String> settings) {
      StringBuilder sb = open("settings", "Settings");
      sb.append("<table class=\"settings\">\n<tbody>\n");
      settings.forEach(
          (k, v) ->
              sb.append("<tr><th scope=\"row\">")
                  .append(esc(words(k)))
                  .append("</th><td>")
                  .append(esc(v))
                  .append("</td></tr>\n"));
      sb.append("</tbody>\n</table>\n");
      return close(sb);
    }

    /**
     * Loss and accuracy per epoch, training vs validation (two charts), and the history as a table
     * (class {@code history}) with the best epoch marked.
     */
    public Builder learningCurves(String heading, History history) {
      return learningCurves(heading, history, 0);
    }

    /**
     * {@link #learningCurves(String, History)}, plus the early warning the training log gave when
     * the run looked stuck after its first epochs ({@link TrainingHealth}).
     *
     * @param heading the section's heading
     * @param history the run's epochs
     * @param classes the number of classes (0: unknown, no early warning)
     */
    public Builder learningCurves(String heading, History history, int classes) {
      StringBuilder sb = open("curves", heading);
      List<EpochRecord> epochs = history.epochs();
      if (epochs.isEmpty()) {
        sb.append("<p>No epochs were recorded.</p>\n");
        return close(sb);
      }
      int best = history.bestEpoch();
      boolean saturated =
          epochs.stream()
              .allMatch(
                  e ->
                      e.validationLoss() >= SATURATED_LOSS
                          || (!e.hasValidation() && e.trainLoss() >= SATURATED_LOSS));
      if (saturated) {
        sb.append("<p class=\"warning\"><b>The softmax is saturated.</b> The loss stays at about ")
            .append(f4(epochs.get(epochs.size() - 1).validationLoss()))
            .append(
                " = &minus;ln(10<sup>&minus;10</sup>) every epoch: the output puts all its"
                    + " probability on one class, and the clipped loss gives no gradient to learn"
                    + " from. This happens when the base's features are huge, typically a base"
                    + " with random weights (<code>--weights none</code>) or a cut after an"
                    + " unnormalised layer. Fix: use pretrained weights, the logistic-regression"
                    + " head (<code>--head logreg</code>, which rescales the features before"
                    + " fitting), a lower learning rate (<code>--lr</code>), or a cut at a"
                    + " normalised layer (<code>--cut</code>).</p>\n");
      }
      if (!saturated) {
        TrainingHealth.warning(epochs, classes)
            .ifPresent(
                w ->
                    sb.append("<p class=\"warning\"><b>Training looks stuck.</b> ")
                        .append(esc(w.substring(w.indexOf(':') + 2)))
                        .append("</p>\n"));
      }
      String loss =
          Charts.curve(
              "Loss",
              "cross-entropy",
              epochs,
              EpochRecord::trainLoss,
              EpochRecord::validationLoss,
              false,
              best);
      String acc =
          Charts.curve(
              "Accuracy",
              "accuracy",
              epochs,
              EpochRecord::trainAccuracy,
              EpochRecord::validationAccuracy,
              true,
              best);
      sb.append("<div class=\"charts\">\n");
      img(sb, loss, heading + ": loss per epoch, training vs validation");
      img(sb, acc, heading + ": accuracy per epoch, training vs validation");
      sb.append("</div>\n");
      sb.append("<details><summary>Per-epoch numbers (best epoch by ")
          .append(esc(history.monitor().name().toLowerCase(Locale.ROOT).replace('_', ' ')))
          .append(": ")
          .append(best)
          .append(")</summary>\n<table class=\"history\">\n<thead><tr>")
          .append("<th>epoch</th><th>train loss</th><th>train acc.</th><th>val. loss</th>")
          .append(
              "<th>val. acc.</th><th>learning rate</th><th>seconds</th></tr></thead>\n<tbody>\n");
      for (EpochRecord r : epochs) {
        sb.append(r.epoch() == best ? "<tr class=\"best\">" : "<tr>")
            .append(td(r.epoch()))
            .append(td(f4(r.trainLoss())))
            .append(td(f4(r.trainAccuracy())))
            .append(td(f4(r.validationLoss())))
            .append(td(f4(r.validationAccuracy())))
            .append(td(String.format(Locale.ROOT, "%.2g", r.learningRate())))
            .append(td(f2(r.seconds())))
            .append("</tr>\n");
      }
      sb.append("</tbody>\n</table>\n</details>\n");
      return close(sb);
    }

    /**
     * An evaluation: accuracy and macro-F1, the confusion matrix (class {@code confusion}, rows =
     * actual, columns = predicted, cells shaded by row share), per-class precision/recall/F1 as a
     * table (class {@code per-class}) and a chart.
     */
    public Builder evaluation(String heading, ClassificationReport r) {
      StringBuilder sb = open("evaluation", heading);
      List<String> labels = r.labels();
      sb.append("<p class=\"headline\">Accuracy <b>")
          .append(pct(r.accuracy()))
          .append("</b> on ")
          .append(r.size())
          .append(" images &middot; macro-F1 <b>")
          .append(f4(r.macroF1()))
          .append("</b>");
      if (labels.size() > 5) {
        sb.append(" &middot; top-5 accuracy <b>").append(pct(r.topK(5))).append("</b>");
      }
      sb.append("</p>\n<div class=\"pair\">\n<div>\n<h3>Confusion matrix</h3>\n")
          .append(
              "<table class=\"confusion\">\n<thead><tr><th class=\"corner\">actual &darr; / predicted &rarr;</th>");
      for (String l : labels) {
        sb.append("<th scope=\"col\">").append(esc(l)).append("</th>");
      }
      sb.append("</tr></thead>\n<tbody>\n");
      int[][] cm = r.confusion();
      for (int i = 0; i < cm.length; i++) {
        int rowSum = 0;
        for (int v : cm[i]) {
          rowSum += v;
        }
        sb.append("<tr><th scope=\"row\">").append(esc(labels.get(i))).append("</th>");
        for (int j = 0; j < cm[i].length; j++) {
          double share = rowSum == 0 ? 0 : (double) cm[i][j] / rowSum;
          String bg =
              i == j
                  ? String.format(Locale.ROOT, "rgba(44,160,44,%.2f)", 0.08 + 0.72 * share)
                  : String.format(
                      Locale.ROOT, "rgba(214,39,40,%.2f)", cm[i][j] == 0 ? 0 : 0.10 + 0.70 * share);
          sb.append("<td style=\"background:")
              .append(bg)
              .append("\">")
              .append(cm[i][j])
              .append("</td>");
        }
        sb.append("</tr>\n");
      }
      sb.append(
              "</tbody>\n</table>\n</div>\n<div>\n<h3>Per-class metrics</h3>\n<table class=\"per-class\">\n")
          .append(
              "<thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>\n<tbody>\n");
      List<Double> p = new ArrayList<>();
      List<Double> rc = new ArrayList<>();
      List<Double> f = new ArrayList<>();
      for (int c = 0; c < labels.size(); c++) {
        p.add(r.precision(c));
        rc.add(r.recall(c));
        f.add(r.f1(c));
        sb.append("<tr><th scope=\"row\">")
            .append(esc(labels.get(c)))
            .append("</th>")
            .append(td(f4(r.precision(c))))
            .append(td(f4(r.recall(c))))
            .append(td(f4(r.f1(c))))
            .append(td(r.support(c)))
            .append("</tr>\n");
      }
      sb.append("</tbody>\n</table>\n</div>\n</div>\n");
      Map<String, List<Double>> series = new LinkedHashMap<>();
      series.put("precision", p);
      series.put("recall", rc);
      series.put("F1", f);
      img(
          sb,
          Charts.bars("Per-class metrics", "score", labels, series),
          heading + ": per-class precision, recall and F1");
      return close(sb);
    }

    /**
     * Interpretation: the top losses as a gallery of thumbnails (class {@code top-losses}: image,
     * true label, predicted label and its probability, loss) and the most-confused class pairs
     * (table class {@code confused}). An image that cannot be read shows its file name instead.
     */
    public Builder interpretation(String heading, Interpretation in, int topLosses) {
      StringBuilder sb = open("interpretation", heading);
      List<Interpretation.Case> worst = in.topLosses(topLosses);
      sb.append("<h3>Top losses</h3>\n<div class=\"top-losses\">\n");
      for (Interpretation.Case c : worst) {
        boolean right = c.actual().equals(c.predicted());
        sb.append("<figure class=\"").append(right ? "case right" : "case wrong").append("\">");
        String thumb = Thumbnails.dataUri(c.image(), 112);
        if (thumb != null) {
          sb.append("<img src=\"")
              .append(thumb)
              .append("\" alt=\"")
              .append(esc(c.image().getFileName().toString()))
              .append("\">");
        } else {
          sb.append("<div class=\"missing\">")
              .append(esc(String.valueOf(c.image().getFileName())))
              .append("</div>");
        }
        sb.append("<figcaption>true <b>")
            .append(esc(c.actual()))
            .append("</b><br>predicted <b>")
            .append(esc(c.predicted()))
            .append("</b> ")
            .append(pct(c.probability()))
            .append("<br>loss ")
            .append(f2(c.loss()))
            .append("</figcaption></figure>\n");
      }
      sb.append("</div>\n<h3>Most confused</h3>\n");
      List<Interpretation.Confusion> pairs = in.mostConfused(10);
      if (pairs.isEmpty()) {
        sb.append("<p>No image was taken for another class.</p>\n");
      } else {
        sb.append("<table class=\"confused\">\n<thead><tr><th>actual</th><th>predicted as</th>")
            .append("<th>images</th></tr></thead>\n<tbody>\n");
        for (Interpretation.Confusion p : pairs) {
          sb.append("<tr><th scope=\"row\">")
              .append(esc(p.actual()))
              .append("</th><td style=\"text-align:left\">")
              .append(esc(p.predicted()))
              .append("</td>")
              .append(td(p.count()))
              .append("</tr>\n");
        }
        sb.append("</tbody>\n</table>\n");
      }
      return close(sb);
    }

    /**
     * One image with a heatmap over it (Grad-CAM): the network's input as it saw it, the heat in
     * [0, 1] at any resolution (stretched over the image), and a caption.
     */
    public record HeatmapImage(
        java.awt.image.BufferedImage input, float[][] heat, String caption) {}

    /**
     * Heatmaps overlaid on images (class {@code grad-cam}): where in each image the evidence for a
     * class lies; the original and the overlay side by side.
     */
    public Builder heatmaps(String heading, String note, List<HeatmapImage> images) {
      StringBuilder sb = open("grad-cam", heading);
      if (note != null) {
        sb.append("<p>").append(esc(note)).append("</p>\n");
      }
      sb.append("<div class=\"top-losses grad-cam\">\n");
      for (HeatmapImage h : images) {
        sb.append("<figure class=\"case cam\"><img src=\"")
            .append(Thumbnails.dataUri(h.input(), 112))
            .append("\" alt=\"input\"><img src=\"")
            .append(Thumbnails.dataUri(Thumbnails.overlay(h.input(), h.heat()), 112))
            .append("\" alt=\"Grad-CAM heatmap\"><figcaption>")
            .append(esc(h.caption()))
            .append("</figcaption></figure>\n");
      }
      sb.append("</div>\n");
      return close(sb);
    }

    /**
     * The learning-rate range test (class {@code lr-find}): loss against rate, the suggestion
     * marked and stated.
     */
    public Builder learningRateFinder(
        String heading, double[] rates, double[] losses, double[] smoothed, double suggestion) {
      StringBuilder sb = open("lr-find", heading);
      sb.append("<p class=\"headline\">Suggested learning rate <b>")
          .append(esc(String.format(Locale.ROOT, "%.2e", suggestion)))
          .append("</b>: where the smoothed loss falls fastest (steepest descent), over ")
          .append(rates.length)
          .append(" minibatches with the rate growing exponentially.</p>\n");
      img(
          sb,
          Charts.rateCurve(rates, losses, smoothed, suggestion),
          heading + ": loss against learning rate");
      return close(sb);
    }

    /** A table with a header row (class {@code summary}), numbers right-aligned. */
    public Builder table(String heading, List<String> header, List<List<String>> rows) {
      StringBuilder sb = open("table", heading);
      sb.append("<table class=\"summary\">\n<thead><tr>");
      header.forEach(h -> sb.append("<th>").append(esc(h)).append("</th>"));
      sb.append("</tr></thead>\n<tbody>\n");
      for (List<String> row : rows) {
        sb.append("<tr>");
        row.forEach(c -> sb.append(td(c)));
        sb.append("</tr>\n");
      }
      sb.append("</tbody>\n</table>\n");
      return close(sb);
    }

    /** A grouped bar chart of values in [0, 1]: one group per category, one bar per series. */
    public Builder barChart(
        String heading, String yTitle, List<String> categories, Map<String, List<Double>> series) {
      StringBuilder sb = open("chart", heading);
      img(sb, Charts.bars(heading, yTitle, categories, series), heading);
      return close(sb);
    }

    /** The finished report. */
    public HtmlReport build() {
      return new HtmlReport(title, sections);
    }

    private StringBuilder open(String kind, String heading) {
      String id = kind + "-" + (++counter);
      StringBuilder sb = new StringBuilder();
      sb.append("<section id=\"").append(id).append("\" class=\"").append(kind).append("\">\n");
      if (heading != null && !heading.isBlank()) {
        sb.append("<h2>").append(esc(heading)).append("</h2>\n");
      }
      return sb;
    }

    private Builder close(StringBuilder sb) {
      sb.append("</section>\n");
      sections.add(sb.toString());
      return this;
    }

    private static void img(StringBuilder sb, String dataUri, String alt) {
      if (dataUri != null) {
        sb.append("<img src=\"")
            .append(dataUri)
            .append("\" alt=\"")
            .append(esc(alt))
            .append("\">\n");
      }
    }
  }

  /**
   * A settings key in the words the rest of the table uses: {@code batchSize} becomes {@code batch
   * size}, {@code weightsSha256} {@code weights SHA-256}; keys already in words stay.
   */
  static String words(String key) {
    if (key == null || key.contains(" ")) {
      return key;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isUpperCase(c) && i > 0 && !Character.isUpperCase(key.charAt(i - 1))) {
        sb.append(' ');
      }
      sb.append(Character.toLowerCase(c));
    }
    return sb.toString().replace("sha256", "SHA-256").replace("l2", "L2");
  }

  /**
   * DL4J clips probabilities at 1e-10, so a loss of -ln(1e-10) = 23.03 means every prediction put
   * (almost) all its probability on a wrong class: the softmax is saturated.
   */
  static final double SATURATED_LOSS = 23.0;

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static String td(Object v) {
    return "<td>" + esc(String.valueOf(v)) + "</td>";
  }

  private static String f4(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "–";
  }

  private static String f2(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "–";
  }

  private static String pct(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : "–";
  }

  private static final String CSS =
      """
      body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
      header{background:#24323f;color:#fff;padding:18px 32px}
      header h1{margin:0;font-size:22px}
      header .meta{margin:4px 0 0;color:#c8d3dc;font-size:13px}
      main{max-width:1180px;margin:0 auto;padding:8px 32px 40px}
      section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:18px 0;padding:12px 20px 18px}
      h2{font-size:18px;margin:6px 0 12px;color:#24323f}
      h3{font-size:15px;margin:6px 0 8px}
      .charts{display:flex;flex-wrap:wrap;gap:12px}
      .pair{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
      img{max-width:100%;height:auto;border:1px solid #eee}
      table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}
      th,td{border:1px solid #ddd;padding:4px 9px}
      thead th{background:#f0f3f6}
      td{text-align:right;font-variant-numeric:tabular-nums}
      table.settings td{text-align:left;overflow-wrap:anywhere}
      table.settings th{text-align:left;background:#f7f7f7;font-weight:600}
      table.summary td:first-child{text-align:left}
      table.confusion td{min-width:34px;text-align:center}
      table.confusion th.corner{font-weight:normal;font-size:11px;color:#666}
      tr.best{font-weight:bold;background:#eef7ee}
      .headline{font-size:15px}
      .warning{background:#fff4e5;border-left:4px solid #e8a33d;padding:8px 12px}
      .top-losses{display:flex;flex-wrap:wrap;gap:10px}
      figure.case{margin:0;width:124px;font-size:12px;text-align:center}
      figure.cam{width:240px}
      figure.case img{width:112px;height:112px;object-fit:contain;image-rendering:pixelated;background:#f4f4f4}
      figure.wrong figcaption b:last-of-type{color:#b22}
      .missing{width:112px;height:112px;background:#eee;font-size:11px;overflow:hidden}
      details{margin-top:8px}
      summary{cursor:pointer;color:#335}
      """;
}
