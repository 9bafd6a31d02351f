package dev.graft.base;

import dev.graft.head.Head;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A loaded base: an immutable description (input, preprocessing, cut, blocks, provenance) and the
 * pretrained network, cut at {@link #featureLayer()}. Made by {@link BaseBuilder#load()}.
 *
 * <pre>{@code
 * Base base = Bases.resnet50().imagenet().inputSize(160).load();
 * base.graph().outputSingle(images);   // [N, 2048, 5, 5] at res5c_branch
 * }</pre>
 *
 * <p>The graph is shared, not copied: callers must not mutate it (train it, freeze it, change its
 * parameters); {@code graph().clone()} gives a private copy. A base holds native memory: close it
 * (try-with-resources) when no model needs it any more; models assembled from it hold copies of its
 * parameters and stay usable.
 */
public final class Base implements AutoCloseable {
  /**
   * Largest square input side a base or a model may declare, in pixels. One 4096² RGB image is
   * already 192 MiB of floats and the first convolution's activations several times that, so a
   * larger side (a model file may say 16384: 3 GiB per image) is refused before anything is
   * allocated. The catalog's largest base uses 518.
   */
  public static final int MAX_INPUT_SIZE = 4096;

  private final String id;
  private final ComputationGraph graph;
  private final String inputName;
  private final int inputSize;
  private final int inputChannels;
  private final Preprocessing preprocessing;
  private final String featureLayer;
  private final List<String> cutPoints;
  private final List<Block> blocks;
  private final String weightsKey;
  private final String weightsSha256;
  private final Architecture architecture;
  private final boolean ownsGraph;
  private final AtomicBoolean closed = new AtomicBoolean();

  Base(
      String id,
      ComputationGraph graph,
      String inputName,
      int inputSize,
      int inputChannels,
      Preprocessing preprocessing,
      String featureLayer,
      List<String> cutPoints,
      List<Block> blocks,
      String weightsKey,
      String weightsSha256,
      Architecture architecture,
      boolean ownsGraph) {
    this.id = id;
    this.graph = graph;
    this.inputName = inputName;
    this.inputSize = inputSize;
    this.inputChannels = inputChannels;
    this.preprocessing = preprocessing;
    this.featureLayer = featureLayer;
    this.cutPoints = List.copyOf(cutPoints);
    this.blocks = List.copyOf(blocks);
    this.weightsKey = weightsKey;
    this.weightsSha256 = weightsSha256;
    this.architecture = architecture;
    this.ownsGraph = ownsGraph;
  }

  /** "vgg16", "resnet50", "inceptionv3", or the file/graph name of a base of your own. */
  public String id() {
    return id;
  }

  /**
   * The loaded network, whose single output is {@link #featureLayer()}. Shared: do not mutate it
   * (clone first).
   */
  public ComputationGraph graph() {
    return graph;
  }

  /** The graph's single input. */
  public String inputName() {
    return inputName;
  }

  /** The square input side in pixels the graph was built for. */
  public int inputSize() {
    return inputSize;
  }

  /** Channels of the input image tensor (3 for every catalog base). */
  public int inputChannels() {
    return inputChannels;
  }

  /** How images must be preprocessed for this base. */
  public Preprocessing preprocessing() {
    return preprocessing;
  }

  /**
   * The cut point, the graph's output: {@code [N, C, h, w]} for a convolutional cut, {@code [N, F]}
   * for a dense one (VGG16 {@code fc2}, ResNet50 {@code avg_pool}).
   */
  public String featureLayer() {
    return featureLayer;
  }

  /** All named cut points, {@link #featureLayer()} first. */
  public List<String> cutPoints() {
    return cutPoints;
  }

  /** The unfreezable blocks, ordered input to output; together they hold every graph vertex. */
  public List<Block> blocks() {
    return blocks;
  }

  /**
   * Provenance and cache key of the weights: {@code imagenet:adler32=3501732770}, {@code
   * none:seed=42}, {@code file:<sha256>}, {@code keras:<sha256>}, {@code graph:<sha256>}.
   */
  public String weightsKey() {
    return weightsKey;
  }

  /**
   * The SHA-256 (hex) of the file the weights were read from (a downloaded ImageNet file, a DL4J
   * zip, a Keras {@code .h5}, or the zip of a base of your own); empty for random weights and
   * graphs built in memory. Recorded in a model's provenance ({@code settings.weightsSha256}).
   */
  public java.util.Optional<String> weightsSha256() {
    return java.util.Optional.ofNullable(weightsSha256);
  }

  /** The catalog entry this base was built from; empty for a base of your own. */
  public Optional<Architecture> architecture() {
    return Optional.ofNullable(architecture);
  }

  /**
   * The head used when none is given: the catalog entry's {@link Architecture#defaultHead()}, and
   * global average pooling straight to the softmax for a base of your own.
   */
  public Head defaultHead() {
    return architecture != null ? architecture.defaultHead() : Head.averagePooling();
  }

  /**
   * Releases the native memory of the graph when this base made it (every base except one built
   * {@link Bases#fromGraph from a graph} that needed no cut, whose graph stays its caller's). Safe
   * to call more than once; the base must not be used afterwards.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsGraph) {
      graph.close();
    }
  }

  @Override
  public String toString() {
    return "Base["
        + id
        + ", "
        + inputSize
        + " px, "
        + preprocessing.name()
        + ", cut "
        + featureLayer
        + ", "
        + blocks.size()
        + " blocks, "
        + weightsKey
        + "]";
  }
}
