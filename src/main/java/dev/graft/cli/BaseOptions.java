package dev.graft.cli;

import dev.graft.GraftException;
import dev.graft.base.Base;
import dev.graft.base.BaseBuilder;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.base.Weights;
import dev.graft.data.ResizeMode;
import java.io.IOException;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The options that choose and load a base: shared by {@code train} and {@code featurize}. */
public final class BaseOptions {
  @Option(names = "--base", required = true, paramLabel = "vgg16|resnet50|inceptionv3|mobilenetv2|efficientnetb0|FILE.zip",
      description = "The pretrained base: a catalog id, or a DL4J ComputationGraph/MultiLayerNetwork"
          + " zip saved with ModelSerializer.")
  String base;

  @Option(names = "--weights", paramLabel = "imagenet|none|FILE",
      description = "Where a catalog base's weights come from: imagenet (default; downloaded once"
          + " and cached), none (random init from --seed), a DL4J zip or a Keras .h5 file.")
  String weights;

  @Option(names = "--image-size", paramLabel = "PX",
      description = "Square input size in pixels (default: the base's own: 224 for vgg16/resnet50,"
          + " 299 for inceptionv3, 224 for mobilenetv2/efficientnetb0, the declared input size for a"
          + " FILE base).")
  Integer imageSize;

  @Option(names = "--preprocess", paramLabel = "unit|caffe|inception|torch|none",
      description = "Pixel preprocessing for a FILE base (default: unit, pixels scaled to [0, 1]);"
          + " a catalog base brings its own.")
  String preprocess;

  @Option(names = "--cut", paramLabel = "LAYER",
      description = "Layer whose activations are the features (default: the base's feature layer;"
          + " for a FILE base, the activations that feed its output layer).")
  String cut;

  @Option(names = "--resize", defaultValue = "center-crop", paramLabel = "center-crop|stretch",
      description = "How images are brought to the input size (default: ${DEFAULT-VALUE}).")
  String resize;

  /** The resize mode named by {@code --resize}. */
  ResizeMode resizeMode() {
    return switch (resize.toLowerCase(Locale.ROOT).replace('_', '-')) {
      case "center-crop", "crop" -> ResizeMode.CENTER_CROP;
      case "stretch" -> ResizeMode.STRETCH;
      default -> throw new BadInputException("--resize: expected center-crop or stretch, got '" + resize + "'");
    };
  }

  /** Loads the base, blaming the right flag for a bad value. */
  Base load(long seed) throws IOException {
    BaseBuilder b;
    try {
      b = Bases.named(base);
    } catch (GraftException e) {
      throw GraftCommand.blame("--base", e);
    }
    if (weights != null) {
      try {
        b.weights(Weights.named(weights));
      } catch (GraftException e) {
        throw GraftCommand.blame("--weights", e);
      }
    }
    if (imageSize != null) {
      if (imageSize < 1) {
        throw new BadInputException("--image-size: must be positive, got " + imageSize);
      }
      try {
        b.inputSize(imageSize);
      } catch (GraftException e) {
        throw GraftCommand.blame("--image-size", e);
      }
    }
    if (preprocess != null) {
      try {
        b.preprocessing(Preprocessing.named(preprocess));
      } catch (GraftException e) {
        throw GraftCommand.blame("--preprocess", e);
      }
    }
    if (cut != null) {
      b.cut(cut);
    }
    b.seed(seed);
    try {
      return b.load();
    } catch (GraftException e) {
      // The library names the value; say which option family it came from.
      throw GraftCommand.blame(flagFor(e.getMessage()), e);
    }
  }

  private String flagFor(String message) {
    String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
    if (cut != null && m.contains(cut.toLowerCase(Locale.ROOT))) {
      return "--cut";
    }
    if (m.contains("size") || m.contains("px")) {
      return "--image-size";
    }
    if (m.contains("weight") || m.contains(".h5") || m.contains("checksum")) {
      return "--weights";
    }
    if (m.contains("preprocess")) {
      return "--preprocess";
    }
    return "--base";
  }
}
