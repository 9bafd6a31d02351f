package dev.graft.base.mobilenet;

import dev.graft.error.GraftException;
import dev.graft.nn.KerasLayers;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * MobileNetV2 without its top, built layer for layer as Keras's {@code
 * keras.applications.MobileNetV2(include_top=False, alpha=…)}: the same layer names ({@code
 * Conv1_pad}, {@code Conv1}, {@code bn_Conv1}, {@code Conv1_relu}, {@code expanded_conv_depthwise},
 * …, {@code block_1_expand}, {@code block_1_pad}, …, {@code block_16_project_BN}, {@code Conv_1},
 * {@code Conv_1_bn}, {@code out_relu}), shapes and padding.
 *
 * <p>Each stride-2 convolution reads a {@link ZeroPaddingLayer} with Keras's {@code correct_pad}:
 * one pixel at the bottom and right only for an even input side, one on every side for an odd one;
 * the convolution itself is then {@code valid} ({@link ConvolutionMode#Truncate}). Stride-1
 * depthwise convolutions are {@code same}. Keras 2.2 (keras-applications) padded the stem the same
 * way under the name {@code Conv1_pad}; later Keras writes {@code Conv1} with {@code
 * padding='same'}, which TensorFlow resolves to the same pixels. Batch normalisation: epsilon 1e-3,
 * momentum 0.999, as Keras. Activations are ReLU6; no convolution has a bias.
 *
 * <p>The input is {@code input_1}, RGB scaled to [-1, 1] (NCHW); the output {@code out_relu} has
 * 1280 channels (for {@code alpha} ≤ 1), 7×7 at 224 px.
 *
 * <pre>{@code
 * ComputationGraph net = new ComputationGraph(MobileNetV2.configuration(224, 1.0, 42));
 * net.init();
 * INDArray features = net.outputSingle(images);   // [N, 1280, 7, 7]
 * }</pre>
 */
public final class MobileNetV2 {

  /** Input side of Keras's default ImageNet weights (also published at 96, 128, 160, 192). */
  public static final int DEFAULT_INPUT_SIZE = 224;

  /** Smallest input side, as Keras ({@code min_size=32}). */
  public static final int MIN_INPUT_SIZE = 32;

  /** Name of the graph's single input, as in Keras. */
  public static final String INPUT_NAME = "input_1";

  /** The last activation, read by global average pooling. */
  public static final String FEATURE_LAYER = "out_relu";

  /** Width multipliers Keras publishes ImageNet weights for. */
  public static final List<Double> ALPHAS = List.of(0.35, 0.5, 0.75, 1.0, 1.3, 1.4);

  /** Parameters of Keras's {@code MobileNetV2(include_top=False)} at alpha 1.0. */
  public static final long KERAS_PARAM_COUNT = 2_257_984L;

  /** Keras's batch normalisation epsilon in this model. */
  public static final double BATCH_NORM_EPSILON = 1e-3;

  /** Keras's batch normalisation momentum in this model (DL4J's {@code decay}). */
  public static final double BATCH_NORM_MOMENTUM = 0.999;

  /** Name of the first block: {@code Conv1_pad} to {@code Conv1_relu}. */
  public static final String STEM = "stem";

  /** Name of the last block: {@code Conv_1} to {@code out_relu}. */
  public static final String TOP = "top";

  /** Inverted residual blocks: (filters, stride, expansion), Keras's {@code block_id} order. */
  private static final int[][] BLOCKS = {
    {16, 1, 1}, {24, 2, 6}, {24, 1, 6}, {32, 2, 6}, {32, 1, 6}, {32, 1, 6}, {64, 2, 6},
    {64, 1, 6}, {64, 1, 6}, {64, 1, 6}, {96, 1, 6}, {96, 1, 6}, {96, 1, 6}, {160, 2, 6},
    {160, 1, 6}, {160, 1, 6}, {320, 1, 6}
  };

  private MobileNetV2() {}

  /**
   * The graph's configuration (random initialisation: Glorot uniform, gamma 1, beta 0).
   *
   * @param inputSize square input side, at least {@link #MIN_INPUT_SIZE}
   * @param alpha width multiplier (Keras's {@code alpha}), positive
   * @param seed seed of the random initialisation
   * @throws GraftException for an input below {@link #MIN_INPUT_SIZE} or a non-positive alpha
   */
  public static ComputationGraphConfiguration configuration(
      int inputSize, double alpha, long seed) {
    if (inputSize < MIN_INPUT_SIZE) {
      throw new GraftException(
          "MobileNetV2 needs an input of at least " + MIN_INPUT_SIZE + " px, got " + inputSize);
    }
    if (!(alpha > 0)) {
      throw new GraftException("MobileNetV2 needs a positive alpha, got " + alpha);
    }
    return new Builder(inputSize, seed).define(alpha);
  }

  /** Block names in order: {@code stem}, {@code block_0} … {@code block_16}, {@code top}. */
  public static List<String> blockNames() {
    List<String> names = new ArrayList<>();
    names.add(STEM);
    for (int i = 0; i < BLOCKS.length; i++) {
      names.add("block_" + i);
    }
    names.add(TOP);
    return List.copyOf(names);
  }

  /**
   * The last vertex of each block of {@link #blockNames()} at width {@code alpha}, in order:
   * Keras's {@code block_N_add} for residual blocks, {@code block_N_project_BN} otherwise.
   */
  public static List<String> blockEnds(double alpha) {
    List<String> ends = new ArrayList<>();
    ends.add("Conv1_relu");
    int in = makeDivisible(32 * alpha, 8);
    for (int i = 0; i < BLOCKS.length; i++) {
      String prefix = i == 0 ? "expanded_conv_" : "block_" + i + "_";
      int out = makeDivisible((int) (BLOCKS[i][0] * alpha), 8);
      ends.add(prefix + (in == out && BLOCKS[i][1] == 1 ? "add" : "project_BN"));
      in = out;
    }
    ends.add(FEATURE_LAYER);
    return List.copyOf(ends);
  }

  /** Keras's {@code _make_divisible}: {@code v} rounded to a multiple of {@code divisor}. */
  static int makeDivisible(double v, int divisor) {
    int rounded = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
    if (rounded < 0.9 * v) {
      rounded += divisor;
    }
    return rounded;
  }

  private static final class Builder {
    private final ComputationGraphConfiguration.GraphBuilder g;
    private int side;

    Builder(int inputSize, long seed) {
      side = inputSize;
      g = KerasLayers.graph(INPUT_NAME, inputSize, seed, WeightInit.XAVIER_UNIFORM);
    }

    /** Keras's {@code correct_pad} for a 3x3 stride-2 window, then the side after it. */
    private String pad(String name, String in) {
      g.addLayer(name, KerasLayers.correctPad(side, 3), in);
      side = KerasLayers.sideAfterCorrectPad(side, 3);
      return name;
    }

    private String bn(String name, String in) {
      g.addLayer(name, KerasLayers.batchNorm(BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM).build(), in);
      return name;
    }

    private String relu6(String name, String in) {
      g.addLayer(name, new ActivationLayer.Builder().activation(Activation.RELU6).build(), in);
      return name;
    }

    private String pointwise(String name, String in, int filters) {
      g.addLayer(
          name,
          new ConvolutionLayer.Builder(1, 1)
              .convolutionMode(ConvolutionMode.Same)
              .nOut(filters)
              .hasBias(false)
              .build(),
          in);
      return name;
    }

    ComputationGraphConfiguration define(double alpha) {
      int first = makeDivisible(32 * alpha, 8);
      String x = pad("Conv1_pad", INPUT_NAME);
      g.addLayer(
          "Conv1",
          new ConvolutionLayer.Builder(3, 3)
              .stride(2, 2)
              .convolutionMode(ConvolutionMode.Truncate)
              .nOut(first)
              .hasBias(false)
              .build(),
          x);
      x = relu6("Conv1_relu", bn("bn_Conv1", "Conv1"));
      int in = first;
      for (int i = 0; i < BLOCKS.length; i++) {
        x = invertedResidual(x, in, BLOCKS[i][0], alpha, BLOCKS[i][1], BLOCKS[i][2], i);
        in = makeDivisible((int) (BLOCKS[i][0] * alpha), 8);
      }
      int last = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
      x = relu6(FEATURE_LAYER, bn("Conv_1_bn", pointwise("Conv_1", x, last)));
      g.setOutputs(x);
      return g.build();
    }

    /** Keras's {@code _inverted_res_block}. */
    private String invertedResidual(
        String input,
        int inChannels,
        int filters,
        double alpha,
        int stride,
        int expansion,
        int id) {
      int out = makeDivisible((int) (filters * alpha), 8);
      String prefix = id == 0 ? "expanded_conv_" : "block_" + id + "_";
      String x = input;
      if (id != 0) {
        x =
            relu6(
                prefix + "expand_relu",
                bn(prefix + "expand_BN", pointwise(prefix + "expand", x, expansion * inChannels)));
      }
      if (stride == 2) {
        x = pad(prefix + "pad", x);
      }
      g.addLayer(
          prefix + "depthwise",
          new DepthwiseConvolution2D.Builder(3, 3)
              .stride(stride, stride)
              .convolutionMode(stride == 1 ? ConvolutionMode.Same : ConvolutionMode.Truncate)
              .depthMultiplier(1)
              .hasBias(false)
              .build(),
          x);
      x = relu6(prefix + "depthwise_relu", bn(prefix + "depthwise_BN", prefix + "depthwise"));
      x = bn(prefix + "project_BN", pointwise(prefix + "project", x, out));
      if (inChannels == out && stride == 1) {
        g.addVertex(prefix + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), input, x);
        return prefix + "add";
      }
      return x;
    }
  }
}
