package dev.graft.cli;

import dev.graft.data.ImageDataset;
import dev.graft.error.GraftException;
import dev.graft.metrics.ClassificationReport;
import dev.graft.model.TransferModel;
import dev.graft.report.Evaluation;
import dev.graft.report.HtmlReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code graft evaluate --model MODEL.graft --data DIR [--json] [--report DIR]}. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description =
        "Evaluate a trained model on a folder of labelled images (a subfolder per class,"
            + " named as at training time): accuracy, per-class precision/recall/F1, confusion matrix.",
    footer = {"", "Example: graft evaluate --model digits.graft --data test/ --json"})
final class EvaluateCommand extends GraftCommand {
  @Option(
      names = "--model",
      required = true,
      paramLabel = "MODEL.graft",
      description = "The model file written by 'graft train'.")
  Path model;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "DIR",
      description = "Labelled images, one subfolder per class.")
  Path data;

  @Option(names = "--json", description = "Print one JSON object on stdout instead of text.")
  boolean json;

  @Option(
      names = "--tta",
      description =
          "Test-time augmentation: average the probabilities over each image, its mirror and a"
              + " 90 %% central crop of both (4x the work); the metrics are TTA's, and the accuracy"
              + " without it is shown next to them.")
  boolean tta;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      description =
          "Also write an HTML report (confusion matrix, per-class metrics) to DIR/index.html.")
  Path report;

  @Override
  int run() throws IOException {
    requireDirectory("--data", data);
    TransferModel m = loadModel("--model", model);
    ImageDataset ds = scan("--data", data, m.labels());
    Evaluation e;
    try (PassBars bars = new PassBars()) {
      e = Evaluation.of(m, ds, tta, bars);
    } catch (GraftException ex) {
      throw blame("--data", ex);
    }
    warnSkipped(e.skipped());
    ClassificationReport r = e.metrics();
    ClassificationReport plain = e.singleView().orElse(null);
    if (report != null) {
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("model", model.toString());
      settings.put("data", data.toString());
      settings.putAll(m.info().table());
      HtmlReport.Builder rb =
          HtmlReport.builder("Evaluation of " + model.getFileName() + " on " + data.getFileName());
      e.addTo(rb, "Evaluation on " + data + (plain != null ? " (with TTA)" : ""));
      rb.settings(settings).build().write(report);
    }
    PrintWriter out = out();
    if (json) {
      ObjectNode root = toJson(r, model, data);
      if (plain != null) {
        root.put("tta", true);
        root.put("accuracyWithoutTta", plain.accuracy());
      }
      out.println(JSON.writeValueAsString(root));
    } else {
      print(out, r);
      if (plain != null) {
        out.printf(
            Locale.ROOT,
            "accuracy without TTA: %.4f, with TTA: %.4f%n",
            plain.accuracy(),
            r.accuracy());
      }
      if (report != null) {
        out.println(
            "report: "
                + dev.graft.io.SafeText.escape(report.resolve(HtmlReport.FILE_NAME).toString()));
      }
    }
    out.flush();
    return ExitCodes.OK;
  }

  static ObjectNode toJson(ClassificationReport r, Path model, Path data) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", model.toString());
    root.put("data", data.toString());
    root.put("images", r.size());
    root.put("accuracy", r.accuracy());
    root.put("macroF1", r.macroF1());
    if (r.labels().size() > 5) {
      root.put("top5Accuracy", r.topK(5));
    }
    ArrayNode labels = root.putArray("labels");
    r.labels().forEach(labels::add);
    ArrayNode per = root.putArray("perClass");
    for (int c = 0; c < r.labels().size(); c++) {
      per.addObject()
          .put("label", r.labels().get(c))
          .put("precision", r.precision(c))
          .put("recall", r.recall(c))
          .put("f1", r.f1(c))
          .put("support", r.support(c));
    }
    ArrayNode cm = root.putArray("confusion");
    for (int[] row : r.confusion()) {
      ArrayNode a = cm.addArray();
      for (int v : row) {
        a.add(v);
      }
    }
    return root;
  }

  static void print(PrintWriter out, ClassificationReport r) {
    // Labels come from the model file: no control character reaches the terminal.
    List<String> labels = r.labels().stream().map(dev.graft.io.SafeText::escape).toList();
    out.printf(
        Locale.ROOT,
        "images:    %d%naccuracy:  %.4f%nmacro-F1:  %.4f%n",
        r.size(),
        r.accuracy(),
        r.macroF1());
    int w = Math.max(5, labels.stream().mapToInt(String::length).max().orElse(5));
    out.println();
    out.printf(
        Locale.ROOT,
        "%-" + w + "s  %9s  %9s  %9s  %7s%n",
        "class",
        "precision",
        "recall",
        "f1",
        "support");
    for (int c = 0; c < labels.size(); c++) {
      out.printf(
          Locale.ROOT,
          "%-" + w + "s  %9.4f  %9.4f  %9.4f  %7d%n",
          labels.get(c),
          r.precision(c),
          r.recall(c),
          r.f1(c),
          r.support(c));
    }
    out.println();
    out.println("confusion matrix (rows: actual, columns: predicted):");
    int cw = Math.max(w, 5);
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", ""));
    labels.forEach(l -> head.append(String.format(Locale.ROOT, " %" + cw + "s", l)));
    out.println(head);
    int[][] cm = r.confusion();
    for (int i = 0; i < cm.length; i++) {
      StringBuilder row =
          new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", labels.get(i)));
      for (int v : cm[i]) {
        row.append(String.format(Locale.ROOT, " %" + cw + "d", v));
      }
      out.println(row);
    }
  }
}
