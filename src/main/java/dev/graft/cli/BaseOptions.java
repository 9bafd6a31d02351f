package dev.graft.cli;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.BaseBuilder;
import dev.graft.base.BaseSettingException;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.base.Weights;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The options that choose and load a base: shared by {@code train} and {@code featurize}. */
public final class BaseOptions {
  @Option(
      names = "--base",
      required = true,
      paramLabel = "CATALOG-ID|FILE.zip",
      completionCandidates = CatalogIds.class,
      description =
          "The pretrained base: a catalog id (${COMPLETION-CANDIDATES}; see the list"
              + " below), or a DL4J ComputationGraph/MultiLayerNetwork zip saved with ModelSerializer.")
  String base;

  @Option(
      names = "--weights",
      paramLabel = "imagenet|none|FILE",
      description =
          "Where a catalog base's weights come from: imagenet (default; downloaded once"
              + " and cached), none (random init from --seed), a DL4J zip, a Keras .h5 file, or a"
              + " PyTorch state dict as .safetensors (bases of the PyTorch ecosystem; a pickled"
              + " .pth/.pt is refused with the line that converts it).")
  String weights;

  @Option(
      names = "--weights-sha256",
      paramLabel = "HEX",
      description =
          "Pin the SHA-256 of the weights file (--weights FILE, the downloaded ImageNet"
              + " file, or a FILE.zip --base): it is checked before the file is read, and a mismatch"
              + " is exit 2. The digest is recorded in the model either way.")
  String weightsSha256;

  @Option(
      names = "--image-size",
      paramLabel = "PX",
      description =
          "Square input size in pixels (default: the base's own, listed below for the"
              + " catalog; the declared input size for a FILE base).")
  Integer imageSize;

  @Option(
      names = "--preprocess",
      paramLabel = "unit|caffe|inception|torch|none",
      description =
          "Pixel preprocessing for a FILE base (default: unit, pixels scaled to [0, 1]);"
              + " a catalog base brings its own.")
  String preprocess;

  @Option(
      names = "--cut",
      paramLabel = "LAYER",
      description =
          "Layer whose activations are the features (default: the base's feature layer;"
              + " for a FILE base, the activations that feed its output layer).")
  String cut;

  @Option(
      names = "--resize",
      defaultValue = "center-crop",
      paramLabel = "center-crop|stretch|pad",
      description =
          "How images are brought to the input size: center-crop (keep the aspect, crop the"
              + " edges), stretch, or pad (letterbox: the whole image fitted inside, the border"
              + " filled; see --pad-margin, --pad-fill). Default: ${DEFAULT-VALUE}.")
  String resize;

  @Option(
      names = "--pad-margin",
      paramLabel = "F",
      description =
          "With --resize pad: fraction of the side left free on each side, in [0, 0.5)"
              + " (default: 0).")
  Double padMargin;

  @Option(
      names = "--pad-fill",
      paramLabel = "edge|#RRGGBB",
      description =
          "With --resize pad: extend the image's edge pixels (default) or fill with a colour.")
  String padFill;

  /** The resize mode named by {@code --resize} (and the pad options). */
  ResizeMode resizeMode() {
    ResizeMode mode;
    try {
      mode = ResizeMode.parse(resize);
    } catch (GraftException e) {
      throw new BadInputException(
          "--resize: expected center-crop, stretch or pad, got '" + resize + "'");
    }
    if (!(mode instanceof ResizeMode.Pad)) {
      if (padMargin != null || padFill != null) {
        throw new BadInputException(
            (padMargin != null ? "--pad-margin" : "--pad-fill") + ": needs --resize pad");
      }
      return mode;
    }
    double margin = padMargin == null ? 0 : padMargin;
    if (!(margin >= 0 && margin < 0.5)) {
      throw new BadInputException("--pad-margin: must be in [0, 0.5), got " + padMargin);
    }
    ResizeMode.Pad.Fill fill = ResizeMode.Pad.Fill.extendEdge();
    if (padFill != null && !padFill.equalsIgnoreCase("edge")) {
      if (!padFill.matches("#[0-9a-fA-F]{6}")) {
        throw new BadInputException(
            "--pad-fill: expected edge or a colour like #000000, got '" + padFill + "'");
      }
      fill = new ResizeMode.Pad.Fill(false, Integer.parseInt(padFill.substring(1), 16));
    }
    return ResizeMode.pad(margin, fill);
  }

  /** Loads the base, blaming the flag whose value the library reports at fault. */
  Base load(long seed) throws IOException {
    BaseBuilder b = builder();
    if (weights != null) {
      try {
        b.weights(Weights.named(weights));
      } catch (GraftException e) {
        throw GraftCommand.blame("--weights", e);
      }
    }
    if (weightsSha256 != null) {
      try {
        b.weightsSha256(weightsSha256);
      } catch (GraftException e) {
        throw GraftCommand.blame("--weights-sha256", e);
      }
    }
    if (imageSize != null) {
      if (imageSize < 1) {
        throw new BadInputException("--image-size: must be positive, got " + imageSize);
      }
      b.inputSize(imageSize);
    }
    if (preprocess != null) {
      try {
        b.preprocessing(Preprocessing.named(preprocess));
      } catch (GraftException e) {
        throw GraftCommand.blame("--preprocess", e);
      }
    }
    if (cut != null) {
      try {
        b.cut(cut);
      } catch (GraftException e) {
        throw GraftCommand.blame("--cut", e);
      }
    }
    b.seed(seed);
    try {
      return b.load();
    } catch (BaseSettingException e) {
      throw GraftCommand.blame(flag(e.setting()), e);
    } catch (GraftException e) {
      throw GraftCommand.blame("--base", e);
    }
  }

  /** {@code --base}: a catalog id, else the path of a model file. */
  private BaseBuilder builder() {
    if (base == null || base.isBlank()) {
      throw new BadInputException(
          "--base: needs a value: "
              + String.join(", ", Architecture.ids())
              + " or a DL4J .zip file");
    }
    Architecture a = Architecture.find(base);
    if (a != null) {
      return Bases.of(a);
    }
    Path p = Path.of(base);
    if (Files.isRegularFile(p)) {
      return Bases.fromFile(p);
    }
    if (base.toLowerCase(Locale.ROOT).endsWith(".zip")) {
      throw new BadInputException("--base: no such model file: " + p.toAbsolutePath());
    }
    throw new BadInputException(
        "--base: unknown base: '"
            + base
            + "' (expected "
            + String.join(", ", Architecture.ids())
            + " or the path of a DL4J .zip model)");
  }

  /** The flag that carries each base setting. */
  private static String flag(BaseSettingException.Setting setting) {
    return switch (setting) {
      case BASE -> "--base";
      case WEIGHTS -> "--weights";
      case INPUT_SIZE -> "--image-size";
      case PREPROCESSING -> "--preprocess";
      case CUT -> "--cut";
    };
  }

  /** The catalog ids, for {@code --base}'s help and shell completion. */
  static final class CatalogIds implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Architecture.ids().iterator();
    }
  }

  /** Help lines describing the catalog bases, one per base, for the commands that take a base. */
  static String[] catalogHelp() {
    List<String> lines = new ArrayList<>();
    lines.add("");
    lines.add("Catalog bases (--base):");
    for (Architecture a : Architecture.values()) {
      lines.add("  " + a.summary());
    }
    return lines.toArray(String[]::new);
  }
}
