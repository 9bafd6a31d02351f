package dev.graft.cli;

import dev.graft.data.ImageDecoder;
import dev.graft.data.SkippedFile;
import dev.graft.model.FilePredictions;
import dev.graft.model.Prediction;
import dev.graft.model.Predictor;
import dev.graft.model.TransferModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft predict --model MODEL.graft [--top K] [--json] IMAGE...}. */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description =
        "Predict the labels of images with a trained model. A directory argument stands"
            + " for every image below it. An image that cannot be read is skipped with a warning (and"
            + " listed under \"skipped\" in --json); the exit code is 2 only if no image could be read,"
            + " or at the first unreadable one with --strict.",
    footer = {"", "Example: graft predict --model digits.graft --top 3 seven.png eight.png"})
final class PredictCommand extends GraftCommand {
  private static final int BATCH = 32;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "MODEL.graft",
      description = "The model file written by 'graft train'.")
  Path model;

  @Option(
      names = "--top",
      defaultValue = "3",
      paramLabel = "K",
      description =
          "How many labels to show per image, most probable first (default: ${DEFAULT-VALUE}).")
  int top;

  @Option(names = "--json", description = "Print one JSON object on stdout instead of text.")
  boolean json;

  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files or directories.")
  List<Path> images;

  @Option(
      names = "--tta",
      description =
          "Test-time augmentation: average the probabilities over each image, its mirror and a"
              + " 90 %% central crop of both (4x the work).")
  boolean tta;

  @Option(
      names = "--strict",
      description = "Stop at the first image that cannot be read (exit 2) instead of skipping it.")
  boolean strict;

  @Override
  int run() throws IOException {
    if (top < 1) {
      throw new BadInputException("--top: must be at least 1, got " + top);
    }
    requireFile("--model", model);
    List<Path> files = expand(images);
    TransferModel m = loadModel("--model", model);
    FilePredictions predicted;
    try (Predictor predictor = m.predictor();
        ProgressBar bar =
            files.size() > BATCH ? progress("predicting", files.size(), "img") : null) {
      predicted =
          FilePredictions.of(predictor, files, top, tta, !strict, bar == null ? null : bar::update);
    } catch (IOException e) { // with --strict: the first file that cannot be read
      throw new BadInputException(e.getMessage(), e);
    }
    List<SkippedFile> skipped = predicted.skipped();
    if (predicted.files().isEmpty()) {
      throw new BadInputException(
          "IMAGE: none of the "
              + files.size()
              + " image(s) could be read"
              + " (first: "
              + skipped.get(0)
              + ")");
    }
    warnSkipped(skipped);
    if (json) {
      printJson(predicted);
    } else {
      printText(predicted);
    }
    return ExitCodes.OK;
  }

  private void printJson(FilePredictions predicted) throws IOException {
    List<Path> done = predicted.files();
    List<List<Prediction>> results = predicted.predictions();
    List<SkippedFile> skipped = predicted.skipped();
    PrintWriter out = out();
    ObjectNode root = JSON.createObjectNode();
    root.put("model", model.toString());
    root.put("top", top);
    ArrayNode arr = root.putArray("predictions");
    for (int i = 0; i < done.size(); i++) {
      ObjectNode o = arr.addObject();
      o.put("image", done.get(i).toString());
      o.put("label", results.get(i).get(0).label());
      o.put("probability", results.get(i).get(0).probability());
      ArrayNode labels = o.putArray("labels");
      for (Prediction p : results.get(i)) {
        labels
            .addObject()
            .put("label", p.label())
            .put("index", p.index())
            .put("probability", p.probability());
      }
    }
    ArrayNode skips = root.putArray("skipped");
    for (SkippedFile s : skipped) {
      skips.addObject().put("image", s.path().toString()).put("reason", s.reason());
    }
    out.println(JSON.writeValueAsString(root));
    out.flush();
  }

  private void printText(FilePredictions predicted) {
    List<Path> done = predicted.files();
    List<List<Prediction>> results = predicted.predictions();
    List<SkippedFile> skipped = predicted.skipped();
    PrintWriter out = out();
    for (int i = 0; i < done.size(); i++) {
      // names and labels come from untrusted files: control characters escaped
      StringBuilder sb =
          new StringBuilder(dev.graft.io.SafeText.escape(done.get(i).toString())).append(": ");
      List<Prediction> r = results.get(i);
      for (int k = 0; k < r.size(); k++) {
        sb.append(k == 0 ? "" : ", ")
            .append(dev.graft.io.SafeText.escape(r.get(k).label()))
            .append(String.format(Locale.ROOT, " (%.1f%%)", 100 * r.get(k).probability()));
      }
      out.println(sb);
    }
    if (!skipped.isEmpty()) {
      out.println("skipped " + skipped.size() + " unreadable image(s); see the warnings on stderr");
    }
    out.flush();
  }

  /** Files as given; directories replaced by the image files below them, sorted. */
  static List<Path> expand(List<Path> args) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : args) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          List<Path> found =
              s.filter(Files::isRegularFile)
                  .filter(ImageDecoder::hasImageExtension)
                  .filter(f -> !f.getFileName().toString().startsWith("."))
                  .sorted()
                  .toList();
          if (found.isEmpty()) {
            throw new BadInputException("IMAGE: no image files in directory " + p);
          }
          out.addAll(found);
        }
      } else if (!Files.exists(p)) {
        throw new BadInputException("IMAGE: no such file: " + p);
      } else {
        out.add(p);
      }
    }
    return out;
  }
}
