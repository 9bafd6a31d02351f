package dev.graft.cli;

import dev.graft.data.ImageDecoder;
import dev.graft.model.Prediction;
import dev.graft.model.Predictor;
import dev.graft.model.TransferModel;
import java.awt.image.BufferedImage;
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
    description = "Predict the labels of images with a trained model. A directory argument stands"
        + " for every image below it.",
    footer = {"", "Example: graft predict --model digits.graft --top 3 seven.png eight.png"})
final class PredictCommand extends GraftCommand {
  private static final int BATCH = 32;

  @Option(names = "--model", required = true, paramLabel = "MODEL.graft",
      description = "The model file written by 'graft train'.")
  Path model;

  @Option(names = "--top", defaultValue = "3", paramLabel = "K",
      description = "How many labels to show per image, most probable first (default: ${DEFAULT-VALUE}).")
  int top;

  @Option(names = "--json", description = "Print one JSON object on stdout instead of text.")
  boolean json;

  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files or directories.")
  List<Path> images;

  @Override
  int run() throws IOException {
    if (top < 1) {
      throw new BadInputException("--top: must be at least 1, got " + top);
    }
    requireFile("--model", model);
    List<Path> files = expand(images);
    TransferModel m = loadModel("--model", model);
    Predictor predictor = m.predictor();
    List<List<Prediction>> results = new ArrayList<>(files.size());
    try (ProgressBar bar = files.size() > BATCH ? progress("predicting", files.size(), "img") : null) {
      for (int from = 0; from < files.size(); from += BATCH) {
        List<Path> chunk = files.subList(from, Math.min(files.size(), from + BATCH));
        List<BufferedImage> decoded = new ArrayList<>(chunk.size());
        for (Path f : chunk) {
          decoded.add(decode(f));
        }
        results.addAll(predictor.predictImages(decoded, top));
        if (bar != null) {
          bar.update(from + chunk.size());
        }
      }
    }
    PrintWriter out = out();
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("model", model.toString());
      root.put("top", top);
      ArrayNode arr = root.putArray("predictions");
      for (int i = 0; i < files.size(); i++) {
        ObjectNode o = arr.addObject();
        o.put("image", files.get(i).toString());
        o.put("label", results.get(i).get(0).label());
        o.put("probability", results.get(i).get(0).probability());
        ArrayNode labels = o.putArray("labels");
        for (Prediction p : results.get(i)) {
          labels.addObject().put("label", p.label()).put("index", p.index()).put("probability", p.probability());
        }
      }
      out.println(JSON.writeValueAsString(root));
    } else {
      for (int i = 0; i < files.size(); i++) {
        StringBuilder sb = new StringBuilder(files.get(i).toString()).append(": ");
        List<Prediction> r = results.get(i);
        for (int k = 0; k < r.size(); k++) {
          sb.append(k == 0 ? "" : ", ").append(r.get(k).label())
              .append(String.format(Locale.ROOT, " (%.1f%%)", 100 * r.get(k).probability()));
        }
        out.println(sb);
      }
    }
    out.flush();
    return ExitCodes.OK;
  }

  private static BufferedImage decode(Path f) {
    try {
      return ImageDecoder.read(f);
    } catch (IOException | RuntimeException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new BadInputException("cannot read image " + f + ": " + why.replace(f.toString() + ": ", ""), e);
    }
  }

  /** Files as given; directories replaced by the image files below them, sorted. */
  static List<Path> expand(List<Path> args) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : args) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          List<Path> found = s.filter(Files::isRegularFile).filter(ImageDecoder::hasImageExtension)
              .filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList();
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
