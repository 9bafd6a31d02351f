package dev.graft.base;

import dev.graft.error.GraftException;
import dev.graft.perf.NativeTuning;
import java.nio.file.Path;
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
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

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
   * The catalog base with id {@code id} ("vgg16", "resnet50", "inceptionv3"; case, dashes and
   * underscores ignored). For a file, use {@link #fromFile(Path)}.
   *
   * @throws GraftException naming the value and the known ids when there is no such base
   */
  public static BaseBuilder catalog(String id) {
    return of(Architecture.named(id));
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
}
