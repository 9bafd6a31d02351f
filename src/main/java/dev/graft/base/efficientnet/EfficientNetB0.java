package dev.graft.base.efficientnet;

import dev.graft.error.GraftException;
import dev.graft.nn.ChannelMultiplyVertex;
import dev.graft.nn.KerasLayers;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * EfficientNetB0 without its top, built layer for layer as Keras's {@code
 * keras.applications.EfficientNetB0(include_top=False)}: the same layer names ({@code
 * stem_conv_pad}, {@code stem_conv}, {@code stem_bn}, {@code stem_activation}, {@code
 * block1a_dwconv}, {@code block1a_se_squeeze}, {@code block1a_se_reduce}, {@code
 * block1a_se_expand}, {@code block1a_se_excite}, {@code block1a_project_conv}, …, {@code
 * block7a_project_bn}, {@code top_conv}, {@code top_bn}, {@code top_activation}), shapes and
 * padding (Keras's {@code correct_pad} before every stride-2 depthwise convolution).
 *
 * <p>Differences, all without effect on inference:
 *
 * <ul>
 *   <li>Keras's model starts with {@code Rescaling(1/255)}, {@code Normalization} (whose mean and
 *       variance are weights of the {@code .h5} file) and, with ImageNet weights, a second {@code
 *       Rescaling}; together they compute {@code (x / 255 - mean) / std} with ImageNet's mean and
 *       standard deviation. Graft applies that as the base's preprocessing ({@code
 *       Preprocessing.torch()}), so the graph starts at {@code stem_conv_pad} and its input is
 *       already normalised; the loader checks that a file's normalisation is ImageNet's.
 *   <li>The squeeze is a global average pooling that keeps the [N, C, 1, 1] shape, so Keras's
 *       {@code blockNx_se_reshape} has no counterpart; the excitation is a {@link
 *       ChannelMultiplyVertex}.
 *   <li>Keras's drop-connect ({@code blockNx_drop}, stochastic depth on the residual branch) acts
 *       in training only and is left out.
 * </ul>
 *
 * <p>Batch normalisation: epsilon 1e-3, momentum 0.99 (Keras's defaults). Activations: swish
 * ({@code x * sigmoid(x)}). The output {@code top_activation} has 1280 channels, 7×7 at 224 px.
 */
public final class EfficientNetB0 {

  /** Input side of Keras's ImageNet weights. */
  public static final int DEFAULT_INPUT_SIZE = 224;

  /** Smallest input side, as Keras ({@code min_size=32}). */
  public static final int MIN_INPUT_SIZE = 32;

  /** Name of the graph's single input, as in Keras. */
  public static final String INPUT_NAME = "input_1";

  /** The last activation, read by global average pooling. */
  public static final String FEATURE_LAYER = "top_activation";

  /**
   * Parameters of Keras's {@code EfficientNetB0(include_top=False)}, which counts the 7 of its
   * {@code Normalization} layer (mean and variance of 3 channels, and a sample count).
   */
  public static final long KERAS_PARAM_COUNT = 4_049_571L;

  /** Parameters of Keras's {@code Normalization} layer, which Graft applies as preprocessing. */
  public static final long KERAS_NORMALIZATION_PARAMS = 7L;

  /** Parameters of this graph. */
  public static final long PARAM_COUNT = KERAS_PARAM_COUNT - KERAS_NORMALIZATION_PARAMS;

  /** Keras's batch normalisation epsilon (its default). */
  public static final double BATCH_NORM_EPSILON = 1e-3;

  /** Keras's batch normalisation momentum (its default; DL4J's {@code decay}). */
  public static final double BATCH_NORM_MOMENTUM = 0.99;

  /** Name of the first block: {@code stem_conv_pad} to {@code stem_activation}. */
  public static final String STEM = "stem";

  /** Name of the last block: {@code top_conv} to {@code top_activation}. */
  public static final String TOP = "top";

  /**
   * Keras's {@code DEFAULT_BLOCKS_ARGS}: kernel, repeats, filters in, filters out, expansion,
   * stride; squeeze-and-excitation ratio 0.25 and identity skip everywhere.
   */
  private static final int[][] STAGES = {
    {3, 1, 32, 16, 1, 1},
    {3, 2, 16, 24, 6, 2},
    {5, 2, 24, 40, 6, 2},
    {3, 3, 40, 80, 6, 2},
    {5, 3, 80, 112, 6, 1},
    {5, 4, 112, 192, 6, 2},
    {3, 1, 192, 320, 6, 1}
  };

  private static final double SE_RATIO = 0.25;

  private EfficientNetB0() {}

  /**
   * The graph's configuration (random initialisation: He normal convolutions, gamma 1, beta 0).
   *
   * @param inputSize square input side, at least {@link #MIN_INPUT_SIZE}
   * @param seed seed of the random initialisation
   * @throws GraftException for an input below {@link #MIN_INPUT_SIZE}
   */
  public static ComputationGraphConfiguration configuration(int inputSize, long seed) {
    if (inputSize < MIN_INPUT_SIZE) {
      throw new GraftException(
          "EfficientNetB0 needs an input of at least " + MIN_INPUT_SIZE + " px, got " + inputSize);
    }
    return new Builder(inputSize, seed).define();
  }

  /**
   * Block names in order: {@code stem}, {@code block1a}, {@code block2a}, …, {@code block7a},
   * {@code top}.
   */
  public static List<String> blockNames() {
    List<String> names = new ArrayList<>();
    names.add(STEM);
    for (int i = 0; i < STAGES.length; i++) {
      for (int j = 0; j < STAGES[i][1]; j++) {
        names.add(blockName(i, j));
      }
    }
    names.add(TOP);
    return List.copyOf(names);
  }

  /**
   * The last vertex of each block of {@link #blockNames()}: {@code blockNx_add} for blocks with an
   * identity skip, {@code blockNx_project_bn} otherwise.
   */
  public static List<String> blockEnds() {
    List<String> ends = new ArrayList<>();
    ends.add("stem_activation");
    for (int i = 0; i < STAGES.length; i++) {
      for (int j = 0; j < STAGES[i][1]; j++) {
        boolean skip = j > 0 || (STAGES[i][5] == 1 && STAGES[i][2] == STAGES[i][3]);
        ends.add(blockName(i, j) + (skip ? "_add" : "_project_bn"));
      }
    }
    ends.add(FEATURE_LAYER);
    return List.copyOf(ends);
  }

  private static String blockName(int stage, int repeat) {
    return "block" + (stage + 1) + (char) ('a' + repeat);
  }

  private static final class Builder {
    private final ComputationGraphConfiguration.GraphBuilder g;
    private int side;

    Builder(int inputSize, long seed) {
      side = inputSize;
      // Keras: VarianceScaling(2.0, fan_out, truncated normal); He is the nearest DL4J has
      g = KerasLayers.graph(INPUT_NAME, inputSize, seed, WeightInit.RELU);
    }

    /** Keras's {@code correct_pad} for a k×k stride-2 window; updates the side. */
    private String pad(String name, String in, int k) {
      g.addLayer(name, KerasLayers.correctPad(side, k), in);
      side = KerasLayers.sideAfterCorrectPad(side, k);
      return name;
    }

    private String bn(String name, String in) {
      g.addLayer(name, KerasLayers.batchNorm(BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM).build(), in);
      return name;
    }

    private String swish(String name, String in) {
      g.addLayer(name, new ActivationLayer.Builder().activation(Activation.SWISH).build(), in);
      return name;
    }

    private String conv1x1(String name, String in, int filters, boolean bias, Activation act) {
      g.addLayer(
          name,
          new ConvolutionLayer.Builder(1, 1)
              .convolutionMode(ConvolutionMode.Same)
              .nOut(filters)
              .hasBias(bias)
              .activation(act)
              .build(),
          in);
      return name;
    }

    ComputationGraphConfiguration define() {
      String x = pad("stem_conv_pad", INPUT_NAME, 3);
      g.addLayer(
          "stem_conv",
          new ConvolutionLayer.Builder(3, 3)
              .stride(2, 2)
              .convolutionMode(ConvolutionMode.Truncate)
              .nOut(32)
              .hasBias(false)
              .build(),
          x);
      x = swish("stem_activation", bn("stem_bn", "stem_conv"));
      for (int i = 0; i < STAGES.length; i++) {
        int[] s = STAGES[i];
        for (int j = 0; j < s[1]; j++) {
          int in = j == 0 ? s[2] : s[3];
          int stride = j == 0 ? s[5] : 1;
          x = block(x, blockName(i, j) + "_", in, s[3], s[0], stride, s[4]);
        }
      }
      x =
          swish(
              FEATURE_LAYER,
              bn("top_bn", conv1x1("top_conv", x, 1280, false, Activation.IDENTITY)));
      g.setOutputs(x);
      return g.build();
    }

    /** Keras's {@code block}: expansion, depthwise, squeeze-and-excitation, projection, skip. */
    private String block(
        String input, String name, int filtersIn, int filtersOut, int k, int stride, int expand) {
      int filters = filtersIn * expand;
      String x = input;
      if (expand != 1) {
        x =
            swish(
                name + "expand_activation",
                bn(
                    name + "expand_bn",
                    conv1x1(name + "expand_conv", x, filters, false, Activation.IDENTITY)));
      }
      if (stride == 2) {
        x = pad(name + "dwconv_pad", x, k);
      }
      g.addLayer(
          name + "dwconv",
          new DepthwiseConvolution2D.Builder(k, k)
              .stride(stride, stride)
              .convolutionMode(stride == 1 ? ConvolutionMode.Same : ConvolutionMode.Truncate)
              .depthMultiplier(1)
              .hasBias(false)
              .build(),
          x);
      x = swish(name + "activation", bn(name + "bn", name + "dwconv"));
      int filtersSe = Math.max(1, (int) (filtersIn * SE_RATIO));
      g.addLayer(
          name + "se_squeeze",
          new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
          x);
      conv1x1(name + "se_reduce", name + "se_squeeze", filtersSe, true, Activation.SWISH);
      conv1x1(name + "se_expand", name + "se_reduce", filters, true, Activation.SIGMOID);
      g.addVertex(name + "se_excite", new ChannelMultiplyVertex(), x, name + "se_expand");
      x =
          bn(
              name + "project_bn",
              conv1x1(
                  name + "project_conv",
                  name + "se_excite",
                  filtersOut,
                  false,
                  Activation.IDENTITY));
      if (stride == 1 && filtersIn == filtersOut) {
        g.addVertex(name + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), x, input);
        return name + "add";
      }
      return x;
    }
  }
}
