package dev.graft.base.torch;

import dev.graft.base.torch.StateDictMapping.Dialect;
import dev.graft.error.GraftException;
import dev.graft.nn.ActivationGeluErf;
import dev.graft.nn.ChannelLayerNorm;
import dev.graft.nn.KerasLayers;
import dev.graft.nn.LayerScale;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.weights.WeightInit;

/**
 * ConvNeXt (Liu et al. 2022) as torchvision builds it ({@code torchvision.models.convnext_tiny}): a
 * 4×4/4 stem with LayerNorm, four stages of blocks (depthwise 7×7, LayerNorm over channels, a
 * pointwise MLP of 4× width with exact GELU, layer scale, stochastic depth, residual add),
 * LayerNorm and a 2×2/2 convolution between stages, and the head's global average pooling then
 * LayerNorm. LayerNorm epsilon 1e-6 throughout.
 *
 * <p>Vertices carry torchvision's module names with {@code _} for {@code .}: {@code features_0_0}
 * (stem convolution), {@code features_1_0_block_0} (a block's depthwise convolution), {@code
 * features_1_0_block_3} (first pointwise layer, a 1×1 convolution with the GELU fused), {@code
 * features_1_0_layer_scale}, {@code features_1_0} (the block's sum), {@code features_2_0} and
 * {@code features_2_1} (downsampling), {@code avgpool}, {@code classifier_0}: the {@link
 * #FEATURE_LAYER}, {@code [N, 768, 1, 1]} for ConvNeXt-Tiny, what torchvision's classifier reads.
 *
 * <p>Weights: torchvision's {@code convnext_tiny} and timm's {@code convnext_tiny.*} state dicts
 * (timm's {@code stem.*}, {@code stages.N.blocks.M.conv_dw}, {@code mlp.fc1}, {@code gamma}, {@code
 * head.norm}, ...) through {@link #mapping}; the ImageNet classifier ({@code classifier.2.*},
 * {@code head.fc.*}) is left aside.
 */
public final class ConvNeXt {
  /** The head's LayerNorm over the pooled features: what the classifier reads. */
  public static final String FEATURE_LAYER = "classifier_0";

  /** Global average pooling, kept 4-d ({@code [N, C, 1, 1]}). */
  public static final String POOL = "avgpool";

  /** Smallest input side: the stem's 4× and three 2× reductions leave a 1×1 map. */
  public static final int MIN_INPUT_SIZE = 32;

  /** ConvNeXt's LayerNorm epsilon. */
  public static final double EPS = 1e-6;

  /** ConvNeXt's initial layer scale. */
  public static final double LAYER_SCALE = 1e-6;

  /**
   * A ConvNeXt's widths, depths and stochastic depth.
   *
   * @param dims channels of each of the four stages (96, 192, 384, 768 for Tiny)
   * @param depths blocks per stage (3, 3, 9, 3 for Tiny)
   * @param dropPath stochastic depth of the last block, rising linearly from 0 at the first (0.1
   *     for Tiny, as torchvision trains it); training only
   */
  public record Shape(int[] dims, int[] depths, double dropPath) {
    /** Checks four stages. */
    public Shape {
      if (dims.length != 4 || depths.length != 4) {
        throw new GraftException("a ConvNeXt needs four stages");
      }
      dims = dims.clone();
      depths = depths.clone();
    }

    /** Blocks in all stages. */
    int blocks() {
      return depths[0] + depths[1] + depths[2] + depths[3];
    }
  }

  /** ConvNeXt-Tiny. */
  public static final Shape TINY =
      new Shape(new int[] {96, 192, 384, 768}, new int[] {3, 3, 9, 3}, 0.1);

  private ConvNeXt() {}

  /** ConvNeXt-Tiny up to {@link #FEATURE_LAYER}, at {@code inputSize} pixels. */
  public static ComputationGraphConfiguration tiny(int inputSize, long seed) {
    return configuration(TINY, inputSize, seed);
  }

  /**
   * A ConvNeXt of the given shape (smaller ones for tests), ending in {@link #FEATURE_LAYER}.
   *
   * @throws GraftException for an input side below {@link #MIN_INPUT_SIZE}
   */
  public static ComputationGraphConfiguration configuration(Shape shape, int inputSize, long seed) {
    if (inputSize < MIN_INPUT_SIZE) {
      throw new GraftException(
          "a ConvNeXt needs an input of at least " + MIN_INPUT_SIZE + " px, got " + inputSize);
    }
    GraphBuilder g = KerasLayers.graph("input_1", inputSize, seed, WeightInit.XAVIER);
    g.addLayer("features_0_0", conv(4, 4, shape.dims()[0]).build(), "input_1")
        .addLayer("features_0_1", norm(), "features_0_0");
    String x = "features_0_1";
    int block = 0;
    for (int s = 0; s < 4; s++) {
      if (s > 0) {
        String d = "features_" + (2 * s);
        g.addLayer(d + "_0", norm(), x)
            .addLayer(d + "_1", conv(2, 2, shape.dims()[s]).build(), d + "_0");
        x = d + "_1";
      }
      for (int b = 0; b < shape.depths()[s]; b++) {
        double p = shape.blocks() > 1 ? shape.dropPath() * block / (shape.blocks() - 1.0) : 0;
        x = block(g, "features_" + (2 * s + 1) + "_" + b, shape.dims()[s], p, x);
        block++;
      }
    }
    g.addLayer(
            POOL,
            new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
            x)
        .addLayer(FEATURE_LAYER, norm(), POOL);
    g.setOutputs(FEATURE_LAYER);
    return g.build();
  }

  /** The last block's sum, the last activation before the pooling. */
  public static String lastBlock(Shape shape) {
    return "features_7_" + (shape.depths()[3] - 1);
  }

  /** Block names: {@code stem}, {@code stage1} … {@code stage4} (the last with the head's norm). */
  public static List<String> blockNames() {
    return List.of("stem", "stage1", "stage2", "stage3", "stage4");
  }

  /** The last vertex of each block of {@link #blockNames()}. */
  public static List<String> blockEnds(Shape shape) {
    List<String> ends = new ArrayList<>(List.of("features_0_1"));
    for (int s = 0; s < 3; s++) {
      ends.add("features_" + (2 * s + 1) + "_" + (shape.depths()[s] - 1));
    }
    ends.add(FEATURE_LAYER);
    return List.copyOf(ends);
  }

  /** torchvision's CNBlock: dw 7×7, LN, 1×1 to 4C with GELU, 1×1 to C, layer scale, drop, add. */
  private static String block(GraphBuilder g, String name, int c, double dropPath, String in) {
    String p = name + "_block_";
    g.addLayer(
            p + "0",
            new DepthwiseConvolution2D.Builder(7, 7)
                .padding(3, 3)
                .depthMultiplier(1)
                .nOut(c)
                .convolutionMode(ConvolutionMode.Truncate)
                .build(),
            in)
        .addLayer(p + "2", norm(), p + "0")
        .addLayer(p + "3", conv(1, 1, 4 * c).activation(new ActivationGeluErf()).build(), p + "2")
        .addLayer(p + "5", conv(1, 1, c).build(), p + "3")
        .addLayer(
            name + "_layer_scale",
            new LayerScale.Builder().initialValue(LAYER_SCALE).dropPath(dropPath).build(),
            p + "5")
        .addVertex(
            name, new ElementWiseVertex(ElementWiseVertex.Op.Add), name + "_layer_scale", in);
    return name;
  }

  private static ConvolutionLayer.Builder conv(int kernel, int stride, int out) {
    return new ConvolutionLayer.Builder(kernel, kernel)
        .stride(stride, stride)
        .convolutionMode(ConvolutionMode.Truncate)
        .nOut(out);
  }

  private static ChannelLayerNorm norm() {
    return new ChannelLayerNorm.Builder().eps(EPS).build();
  }

  /**
   * The state dict mapping of a ConvNeXt of this shape: torchvision's names, and timm's; the
   * ImageNet classifier ({@code classifier.2.*}, {@code head.fc.*}) is left aside.
   */
  public static StateDictMapping mapping(Shape shape) {
    StateDictMapping.Builder m = StateDictMapping.builder("convnext-tiny");
    conv(m, "features.0.0", TensorConversion.SAME);
    norm(m, "features.0.1");
    for (int s = 0; s < 4; s++) {
      if (s > 0) {
        norm(m, "features." + (2 * s) + ".0");
        conv(m, "features." + (2 * s) + ".1", TensorConversion.SAME);
      }
      for (int b = 0; b < shape.depths()[s]; b++) {
        String p = "features." + (2 * s + 1) + "." + b + ".";
        conv(m, p + "block.0", TensorConversion.DEPTHWISE);
        norm(m, p + "block.2");
        conv(m, p + "block.3", TensorConversion.LINEAR_AS_1X1);
        conv(m, p + "block.5", TensorConversion.LINEAR_AS_1X1);
        m.add(
            p + "layer_scale",
            TorchResNet.vertex(p + "layer_scale"),
            LayerScale.GAMMA,
            TensorConversion.SAME);
      }
    }
    norm(m, "classifier.0");
    return m.dialect(
            new Dialect(
                "torchvision", UnaryOperator.identity(), n -> n.startsWith("classifier.2.")))
        .dialect(new Dialect("timm", ConvNeXt::fromTimm, n -> n.startsWith("head.fc.")))
        .build();
  }

  private static final Pattern TIMM_BLOCK =
      Pattern.compile(
          "stages\\.(\\d)\\.blocks\\.(\\d+)\\.(conv_dw|norm|mlp\\.fc1|mlp\\.fc2|gamma)(.*)");
  private static final Pattern TIMM_DOWNSAMPLE =
      Pattern.compile("stages\\.(\\d)\\.downsample\\.([01])\\.(weight|bias)");

  /** timm's name of a ConvNeXt tensor as torchvision's, or {@code null}. */
  static String fromTimm(String n) {
    if (n.startsWith("stem.0.") || n.startsWith("stem.1.")) {
      return "features.0." + n.substring("stem.".length());
    }
    if (n.startsWith("head.norm.")) {
      return "classifier.0." + n.substring("head.norm.".length());
    }
    Matcher b = TIMM_BLOCK.matcher(n);
    if (b.matches()) {
      int stage = Integer.parseInt(b.group(1));
      String module =
          switch (b.group(3)) {
            case "conv_dw" -> "block.0";
            case "norm" -> "block.2";
            case "mlp.fc1" -> "block.3";
            case "mlp.fc2" -> "block.5";
            default -> "layer_scale";
          };
      return "features." + (2 * stage + 1) + "." + b.group(2) + "." + module + b.group(4);
    }
    Matcher d = TIMM_DOWNSAMPLE.matcher(n);
    if (d.matches() && !d.group(1).equals("0")) {
      return "features." + (2 * Integer.parseInt(d.group(1))) + "." + d.group(2) + "." + d.group(3);
    }
    return null;
  }

  private static void conv(StateDictMapping.Builder m, String module, TensorConversion weight) {
    String v = TorchResNet.vertex(module);
    m.add(module + ".weight", v, "W", weight).add(module + ".bias", v, "b", TensorConversion.SAME);
  }

  private static void norm(StateDictMapping.Builder m, String module) {
    String v = TorchResNet.vertex(module);
    m.add(module + ".weight", v, ChannelLayerNorm.GAMMA, TensorConversion.SAME)
        .add(module + ".bias", v, ChannelLayerNorm.BETA, TensorConversion.SAME);
  }
}
