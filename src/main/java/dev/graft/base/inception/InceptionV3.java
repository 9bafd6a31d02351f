package dev.graft.base.inception;

import dev.graft.error.GraftException;
import dev.graft.nn.KerasLayers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * Inception V3 without its top, built layer for layer as Keras's {@code
 * keras.applications.inception_v3.InceptionV3(include_top=False)}, so that Keras's ImageNet {@code
 * .h5} weights map onto it one to one by layer name.
 *
 * <p>deeplearning4j-zoo has no Inception V3; this class is the Graft catalog's. Every layer carries
 * the name Keras gives it: Keras names unnamed layers by class and creation order, so the graph
 * creates its layers in exactly Keras's order: {@code conv2d_1}…{@code conv2d_94}, {@code
 * batch_normalization_1}…{@code batch_normalization_94}, {@code activation_1}…{@code
 * activation_94}, {@code max_pooling2d_1}…{@code max_pooling2d_4}, {@code average_pooling2d_1}…
 * {@code average_pooling2d_9}, the concatenations {@code mixed0}…{@code mixed10}, {@code mixed9_0},
 * {@code concatenate_1}, {@code mixed9_1}, {@code concatenate_2}. The input is {@code input_1}
 * (NCHW, 3 channels, RGB scaled to [-1, 1]); the output is {@code mixed10}, 2048 channels (8×8 at
 * 299 px, 1×1 at 75 px).
 *
 * <p>Keras pads with {@code 'valid'} or {@code 'same'}; the graph uses {@link
 * ConvolutionMode#Truncate} and {@link ConvolutionMode#Same} for them, and averages over the
 * unpadded window as TensorFlow does. Convolutions have no bias; batch normalisation has epsilon
 * 1e-3 and momentum 0.99 as in Keras, and stores the variance itself (not DL4J's log10 of the
 * standard deviation) so that Keras values pass through unchanged.
 *
 * <p><b>Parameter count.</b> Keras's BatchNormalization here has {@code scale=False}: no gamma.
 * DL4J's has no such switch ({@code lockGammaBeta} would fix beta too, and Keras learns beta), so
 * every BatchNormalization layer carries a gamma of ones, held there by the {@link UnitGamma}
 * constraint when batch normalisation is trained: {@link #PARAM_COUNT} = {@link #KERAS_PARAM_COUNT}
 * + {@link #FIXED_GAMMA_COUNT} (the 17,216 channels of the 94 batch normalisation layers), the same
 * function.
 *
 * <pre>{@code
 * ComputationGraph net = InceptionV3.build(299, 42);   // Architecture.INCEPTION_V3's default size
 * INDArray features = net.outputSingle(images);   // [N, 2048, 8, 8]
 * }</pre>
 */
public final class InceptionV3 {

  /** Smallest input side the architecture accepts (as Keras: {@code min_size=75}). */
  public static final int MIN_INPUT_SIZE = 75;

  /** Name of the graph's single input, as in Keras. */
  public static final String INPUT_NAME = "input_1";

  /** The last concatenation: the feature layer that global average pooling reads. */
  public static final String FEATURE_LAYER = "mixed10";

  /** Channels of {@link #FEATURE_LAYER}. */
  public static final int FEATURE_CHANNELS = 2048;

  /** Keras's batch normalisation epsilon for this model (its default, 1e-3). */
  public static final double BATCH_NORM_EPSILON = 1e-3;

  /** Keras's batch normalisation momentum (its default, 0.99), DL4J's {@code decay}. */
  public static final double BATCH_NORM_MOMENTUM = 0.99;

  /** Parameters of Keras's {@code InceptionV3(include_top=False)}. */
  public static final long KERAS_PARAM_COUNT = 21_802_784L;

  /** The fixed gammas DL4J adds: one per channel of the 94 batch normalisation layers. */
  public static final long FIXED_GAMMA_COUNT = 17_216L;

  /** Parameters of this graph: Keras's plus the fixed gammas. */
  public static final long PARAM_COUNT = KERAS_PARAM_COUNT + FIXED_GAMMA_COUNT;

  /** Name of the first block: the five convolutions and two poolings before {@code mixed0}. */
  public static final String STEM = "stem";

  private static final List<String> BLOCK_NAMES;
  private static final Map<String, List<String>> BLOCKS;

  static {
    Builder b = new Builder(MIN_INPUT_SIZE, 0L); // block names do not depend on the size
    b.define();
    BLOCKS = b.blocksView();
    BLOCK_NAMES = List.copyOf(BLOCKS.keySet());
  }

  private InceptionV3() {}

  /**
   * Builds and initialises the graph with random weights (Glorot uniform convolutions, gamma 1,
   * beta 0, as Keras).
   *
   * @param inputSize square input side in pixels, at least {@link #MIN_INPUT_SIZE}
   * @param seed seed of the random initialisation
   * @return an initialised graph from {@link #INPUT_NAME} to {@link #FEATURE_LAYER}
   * @throws GraftException if {@code inputSize} is below {@link #MIN_INPUT_SIZE}
   */
  public static ComputationGraph build(int inputSize, long seed) {
    ComputationGraph graph = new ComputationGraph(configuration(inputSize, seed));
    graph.init();
    return graph;
  }

  /**
   * The graph's configuration, for callers that want to change it before initialising.
   *
   * @param inputSize square input side in pixels, at least {@link #MIN_INPUT_SIZE}
   * @param seed seed of the random initialisation
   * @return the configuration {@link #build} initialises
   */
  public static ComputationGraphConfiguration configuration(int inputSize, long seed) {
    if (inputSize < MIN_INPUT_SIZE) {
      throw new GraftException(
          "InceptionV3 needs an input of at least "
              + MIN_INPUT_SIZE
              + " px, got inputSize="
              + inputSize);
    }
    Builder b = new Builder(inputSize, seed);
    b.define();
    return b.graph.build();
  }

  /** The ordered block names: {@code stem}, {@code mixed0}, …, {@code mixed10}. */
  public static List<String> blockNames() {
    return BLOCK_NAMES;
  }

  /**
   * The ordered blocks, input to output: each block name with the names of the layers and vertices
   * it holds, in creation order (a block ends with its concatenation, or the stem with {@code
   * max_pooling2d_2}).
   */
  public static Map<String, List<String>> blocks() {
    return BLOCKS;
  }

  /** Builds the configuration in Keras's creation order, counting names as Keras does. */
  private static final class Builder {
    private final ComputationGraphConfiguration.GraphBuilder graph;
    private final Map<String, List<String>> blocks = new LinkedHashMap<>();
    private List<String> current;
    private int convs;
    private int maxPools;
    private int avgPools;
    private int concats;

    Builder(int inputSize, long seed) {
      graph = KerasLayers.graph(INPUT_NAME, inputSize, seed, WeightInit.XAVIER_UNIFORM);
    }

    Map<String, List<String>> blocksView() {
      Map<String, List<String>> copy = new LinkedHashMap<>();
      blocks.forEach((k, v) -> copy.put(k, List.copyOf(v)));
      return Collections.unmodifiableMap(copy);
    }

    private void block(String name) {
      current = new ArrayList<>();
      blocks.put(name, current);
    }

    /** Keras's {@code conv2d_bn}: Conv2D without bias, BatchNormalization(scale=False), ReLU. */
    private String convBn(String in, int filters, int rows, int cols, boolean same, int stride) {
      int n = ++convs;
      String conv = "conv2d_" + n;
      String bn = "batch_normalization_" + n;
      String act = "activation_" + n;
      graph.addLayer(
          conv,
          new ConvolutionLayer.Builder(rows, cols)
              .stride(stride, stride)
              .convolutionMode(same ? ConvolutionMode.Same : ConvolutionMode.Truncate)
              .nOut(filters)
              .hasBias(false)
              .build(),
          in);
      graph.addLayer(
          bn,
          KerasLayers.batchNorm(BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM)
              .constrainAllParameters(new UnitGamma())
              .nOut(filters)
              .build(),
          conv);
      graph.addLayer(act, new ActivationLayer.Builder().activation(Activation.RELU).build(), bn);
      current.add(conv);
      current.add(bn);
      current.add(act);
      return act;
    }

    private String conv(String in, int filters, int rows, int cols) {
      return convBn(in, filters, rows, cols, true, 1);
    }

    private String convValid(String in, int filters, int rows, int cols, int stride) {
      return convBn(in, filters, rows, cols, false, stride);
    }

    /** {@code MaxPooling2D((3, 3), strides=(2, 2))}, padding 'valid'. */
    private String maxPool(String in) {
      String name = "max_pooling2d_" + (++maxPools);
      graph.addLayer(
          name,
          new SubsamplingLayer.Builder(PoolingType.MAX)
              .kernelSize(3, 3)
              .stride(2, 2)
              .convolutionMode(ConvolutionMode.Truncate)
              .build(),
          in);
      current.add(name);
      return name;
    }

    /** {@code AveragePooling2D((3, 3), strides=(1, 1), padding='same')}, padding not counted. */
    private String avgPool(String in) {
      String name = "average_pooling2d_" + (++avgPools);
      graph.addLayer(
          name,
          new SubsamplingLayer.Builder(PoolingType.AVG)
              .kernelSize(3, 3)
              .stride(1, 1)
              .convolutionMode(ConvolutionMode.Same)
              .avgPoolIncludePadInDivisor(false)
              .build(),
          in);
      current.add(name);
      return name;
    }

    /** {@code layers.concatenate(..., axis=channels, name=name)}; null name: Keras's default. */
    private String concat(String name, String... in) {
      String n = name != null ? name : "concatenate_" + (++concats);
      graph.addVertex(n, new MergeVertex(), in);
      current.add(n);
      return n;
    }

    void define() {
      block(STEM);
      String x = convValid(INPUT_NAME, 32, 3, 3, 2);
      x = convValid(x, 32, 3, 3, 1);
      x = conv(x, 64, 3, 3);
      x = maxPool(x);
      x = convValid(x, 80, 1, 1, 1);
      x = convValid(x, 192, 3, 3, 1);
      x = maxPool(x);

      // mixed 0, 1, 2: 35 x 35 x 256, 288, 288
      for (int i = 0; i < 3; i++) {
        block("mixed" + i);
        String b1 = conv(x, 64, 1, 1);
        String b5 = conv(x, 48, 1, 1);
        b5 = conv(b5, 64, 5, 5);
        String b3 = conv(x, 64, 1, 1);
        b3 = conv(b3, 96, 3, 3);
        b3 = conv(b3, 96, 3, 3);
        String bp = avgPool(x);
        bp = conv(bp, i == 0 ? 32 : 64, 1, 1);
        x = concat("mixed" + i, b1, b5, b3, bp);
      }

      // mixed 3: 17 x 17 x 768
      block("mixed3");
      String b3 = convValid(x, 384, 3, 3, 2);
      String b3d = conv(x, 64, 1, 1);
      b3d = conv(b3d, 96, 3, 3);
      b3d = convValid(b3d, 96, 3, 3, 2);
      String bp = maxPool(x);
      x = concat("mixed3", b3, b3d, bp);

      // mixed 4, 5, 6, 7: 17 x 17 x 768
      int[] width = {128, 160, 160, 192};
      for (int i = 0; i < 4; i++) {
        int c = width[i];
        block("mixed" + (4 + i));
        String b1 = conv(x, 192, 1, 1);
        String b7 = conv(x, c, 1, 1);
        b7 = conv(b7, c, 1, 7);
        b7 = conv(b7, 192, 7, 1);
        String b7d = conv(x, c, 1, 1);
        b7d = conv(b7d, c, 7, 1);
        b7d = conv(b7d, c, 1, 7);
        b7d = conv(b7d, c, 7, 1);
        b7d = conv(b7d, 192, 1, 7);
        String pool = avgPool(x);
        pool = conv(pool, 192, 1, 1);
        x = concat("mixed" + (4 + i), b1, b7, b7d, pool);
      }

      // mixed 8: 8 x 8 x 1280
      block("mixed8");
      String b3x3 = conv(x, 192, 1, 1);
      b3x3 = convValid(b3x3, 320, 3, 3, 2);
      String b7x3 = conv(x, 192, 1, 1);
      b7x3 = conv(b7x3, 192, 1, 7);
      b7x3 = conv(b7x3, 192, 7, 1);
      b7x3 = convValid(b7x3, 192, 3, 3, 2);
      String pool8 = maxPool(x);
      x = concat("mixed8", b3x3, b7x3, pool8);

      // mixed 9, 10: 8 x 8 x 2048
      for (int i = 0; i < 2; i++) {
        block("mixed" + (9 + i));
        String b1 = conv(x, 320, 1, 1);
        String b3a = conv(x, 384, 1, 1);
        String b3a1 = conv(b3a, 384, 1, 3);
        String b3a2 = conv(b3a, 384, 3, 1);
        String b3cat = concat("mixed9_" + i, b3a1, b3a2);
        String bd = conv(x, 448, 1, 1);
        bd = conv(bd, 384, 3, 3);
        String bd1 = conv(bd, 384, 1, 3);
        String bd2 = conv(bd, 384, 3, 1);
        String bdcat = concat(null, bd1, bd2);
        String pool = avgPool(x);
        pool = conv(pool, 192, 1, 1);
        x = concat("mixed" + (9 + i), b1, b3cat, bdcat, pool);
      }
      graph.setOutputs(x);
    }
  }
}
