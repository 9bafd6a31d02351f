package dev.graft.base;

import dev.graft.GraftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Entry points to the bases: the catalog ({@link Architecture}) and bases of your own.
 *
 * <pre>{@code
 * Base vgg = Bases.vgg16().imagenet().load();        // 224 px, caffe, block5_pool
 * Base small = Bases.resnet50().weights(Weights.none()).inputSize(64).load();
 * Base mine = Bases.fromFile(Path.of("lenet.zip")).load();
 * // unit preprocessing, declared input size, cut before the output layer
 * }</pre>
 */
public final class Bases {
  private Bases() {}

  /** VGG16 (see {@link Architecture#VGG16}). */
  public static BaseBuilder vgg16() {
    return of(Architecture.VGG16);
  }

  /** ResNet50 (see {@link Architecture#RESNET50}). */
  public static BaseBuilder resnet50() {
    return of(Architecture.RESNET50);
  }

  /** InceptionV3 (see {@link Architecture#INCEPTION_V3}). */
  public static BaseBuilder inceptionV3() {
    return of(Architecture.INCEPTION_V3);
  }

  /** MobileNetV2, width 1.0 (see {@link Architecture#MOBILENET_V2}). */
  public static BaseBuilder mobilenetV2() {
    return of(Architecture.MOBILENET_V2);
  }

  /** EfficientNetB0 (see {@link Architecture#EFFICIENTNET_B0}). */
  public static BaseBuilder efficientnetB0() {
    return of(Architecture.EFFICIENTNET_B0);
  }

  /** A catalog base. */
  public static BaseBuilder of(Architecture architecture) {
    return new BaseBuilder(Objects.requireNonNull(architecture, "architecture"));
  }

  /**
   * The base named on the command line: a catalog id ("vgg16", "resnet50", "inceptionv3",
   * "mobilenetv2", "efficientnetb0") or the path of a DL4J model zip.
   *
   * @throws GraftException naming the value when it is neither
   */
  public static BaseBuilder named(String idOrZipPath) {
    if (idOrZipPath == null || idOrZipPath.isBlank()) {
      throw new GraftException(
          "--base needs a value: "
              + catalogIds()
              + " or a DL4J .zip file");
    }
    Architecture a = Architecture.find(idOrZipPath);
    if (a != null) {
      return of(a);
    }
    Path p = Path.of(idOrZipPath);
    if (Files.isRegularFile(p)) {
      return fromFile(p);
    }
    if (idOrZipPath.toLowerCase(Locale.ROOT).endsWith(".zip")) {
      throw new GraftException("no such model file: " + p.toAbsolutePath());
    }
    throw new GraftException(
        "unknown base: '"
            + idOrZipPath
            + "' (expected "
            + catalogIds()
            + " or the path of a DL4J .zip model)");
  }

  /**
   * A base of your own: a ComputationGraph or MultiLayerNetwork zip written by ModelSerializer.
   * Defaults: preprocessing {@code unit}, the input size the graph declares, the cut at the
   * activations that feed its output layer.
   */
  public static BaseBuilder fromFile(Path dl4jZip) {
    return new BaseBuilder(Objects.requireNonNull(dl4jZip, "dl4jZip"));
  }

  /**
   * A base of your own from a graph in memory (with its current parameters). Same defaults as
   * {@link #fromFile(Path)}; the graph is not copied when no truncation is needed.
   */
  public static BaseBuilder fromGraph(String name, ComputationGraph graph) {
    return new BaseBuilder(
        Objects.requireNonNull(name, "name"), Objects.requireNonNull(graph, "graph"));
  }

  private static String catalogIds() {
    StringBuilder ids = new StringBuilder();
    for (Architecture a : Architecture.values()) {
      ids.append(ids.length() == 0 ? "" : ", ").append(a.id());
    }
    return ids.toString();
  }
}
