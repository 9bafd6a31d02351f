package dev.graft.spark;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.BaseBuilder;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.base.Weights;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import dev.graft.model.TransferModel;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The settings of a {@link GraftFeaturizer}, the values {@code graft featurize}'s options take:
 * what executors need to load the same base, and the key under which each executor JVM keeps it.
 *
 * @param base a catalog id, or the path of a DL4J zip or a {@code .graft} model
 * @param weights as {@code --weights} (null: the base's default)
 * @param imageSize as {@code --image-size} (0: the base's default)
 * @param preprocess as {@code --preprocess} (null: the base's own)
 * @param cut as {@code --cut} (null: the base's feature layer)
 * @param resize as {@code --resize}: {@code center-crop} or {@code stretch}
 * @param seed as {@code --seed}: the random initialisation of {@code weights none}
 */
record FeaturizerSettings(
    String base,
    String weights,
    int imageSize,
    String preprocess,
    String cut,
    String resize,
    long seed)
    implements Serializable {

  /** Checks what can be checked without loading anything, echoing the bad value. */
  FeaturizerSettings {
    if (base == null || base.isBlank()) {
      throw new IllegalArgumentException(
          "base is required: a catalog id (vgg16, resnet50, ...), a DL4J"
              + " zip or a .graft model");
    }
    if (imageSize < 0) {
      throw new IllegalArgumentException("imageSize must be positive, got " + imageSize);
    }
    resizeMode(resize);
    if (preprocess != null) {
      Preprocessing.named(preprocess);
    }
  }

  /**
   * The resize mode named {@code center-crop} (or {@code crop}), {@code stretch}, {@code pad}, or a
   * recorded {@code PAD(margin=...,fill=...)}.
   */
  static ResizeMode resizeMode(String name) {
    try {
      return ResizeMode.parse(name);
    } catch (dev.graft.error.GraftException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  ResizeMode resizeMode() {
    return resizeMode(resize);
  }

  /** The cache key: the settings and the stamps of the files they name, as found on this JVM. */
  Object key() {
    return List.of(
        this,
        ExecutorJvm.stamp(ExecutorJvm.localFile(base)),
        weights == null ? List.of() : ExecutorJvm.stamp(ExecutorJvm.localFile(weights)));
  }

  /**
   * Loads the base as {@code graft featurize} would with these options. Files are looked up with
   * {@link ExecutorJvm#localFile}, so that a file shipped with {@code --files} is found on
   * executors.
   *
   * @throws GraftException on impossible settings, naming the value
   * @throws IOException if a file cannot be read
   */
  Base load() throws IOException {
    BaseBuilder b;
    Path file = ExecutorJvm.localFile(base);
    if (base.toLowerCase(Locale.ROOT).endsWith(".graft")) {
      // A trained model as a base: its own network, preprocessing and input size; the default
      // cut is the activations that feed its softmax.
      TransferModel m = TransferModel.load(file);
      String name = file.getFileName().toString();
      b =
          Bases.fromGraph(name.substring(0, name.length() - ".graft".length()), m.network())
              .preprocessing(m.info().preprocessing())
              .inputSize(m.info().inputSize());
    } else if (Architecture.find(base) != null) {
      b = Bases.of(Architecture.find(base));
    } else if (file.toFile().isFile()) {
      b = Bases.fromFile(file);
    } else {
      throw new GraftException(
          "no base '"
              + base
              + "': not a catalog id ("
              + String.join(", ", Architecture.ids())
              + ") nor a file on this machine ("
              + file.toAbsolutePath()
              + "); ship a file to executors with spark-submit --files");
    }
    if (weights != null) {
      Weights w = Weights.named(weights);
      if (w instanceof Weights.Dl4jZip z) {
        w = Weights.file(ExecutorJvm.localFile(z.path().toString()));
      } else if (w instanceof Weights.Keras k) {
        w = Weights.keras(ExecutorJvm.localFile(k.path().toString()));
      } else if (w instanceof Weights.Safetensors st) {
        w = Weights.safetensors(ExecutorJvm.localFile(st.path().toString()));
      }
      b.weights(w);
    }
    if (imageSize > 0) {
      b.inputSize(imageSize);
    }
    if (preprocess != null) {
      b.preprocessing(Preprocessing.named(preprocess));
    }
    if (cut != null) {
      b.cut(cut);
    }
    return b.seed(seed).load();
  }
}
