package dev.graft.base.torch;

import dev.graft.base.torch.StateDictMapping.Dialect;
import dev.graft.error.GraftException;
import dev.graft.nn.KerasLayers;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * ResNet50 v1.5 as torchvision builds it ({@code torchvision.models.resnet50}): the bottleneck's
 * stride is on its 3×3 convolution (Keras's ResNet50, v1, strides the first 1×1), PyTorch's
 * symmetric padding (7×7/2 pad 3, max pooling 3×3/2 pad 1, 3×3 pad 1), BatchNorm epsilon 1e-5.
 * Vertices carry torchvision's module names with {@code _} for {@code .} ({@code conv1}, {@code
 * bn1}, {@code layer1_0_conv1}, {@code layer1_0_downsample_0}, ...); each bottleneck ends in the
 * vertex named after it ({@code layer4_2}, the {@link #FEATURE_LAYER}, 2048 channels).
 *
 * <p>Weights: torchvision's and timm's {@code resnet50.*} state dicts (timm keeps torchvision's
 * names) through {@link #mapping}; the ImageNet classifier {@code fc.*} is left aside.
 *
 * <pre>{@code
 * ComputationGraph g = new ComputationGraph(TorchResNet.resnet50(224, 42));
 * g.init();
 * TorchResNet.mapping(TorchResNet.RESNET50).load(g, Path.of("resnet50.safetensors"));
 * }</pre>
 */
public final class TorchResNet {
  /** The last activation of ResNet50, read by global average pooling. */
  public static final String FEATURE_LAYER = "layer4_2";

  /** The global average pooling over {@link #FEATURE_LAYER} (the vector {@code fc} reads). */
  public static final String POOL = "avgpool";

  /** Smallest input side: five halvings leave a 1×1 map. */
  public static final int MIN_INPUT_SIZE = 32;

  /** PyTorch's BatchNorm2d epsilon. */
  public static final double BATCH_NORM_EPSILON = 1e-5;

  /**
   * A ResNet's widths and depths.
   *
   * @param stem channels of the stem's 7×7 convolution (64)
   * @param planes each stage's bottleneck width (64, 128, 256, 512); outputs are 4× that
   * @param depths bottlenecks per stage (3, 4, 6, 3)
   */
  public record Shape(int stem, int[] planes, int[] depths) {
    /** Checks four positive stages. */
    public Shape {
      if (stem < 1 || planes.length != 4 || depths.length != 4) {
        throw new GraftException("a ResNet needs a stem width and four stages");
      }
      planes = planes.clone();
      depths = depths.clone();
    }

    /** The last vertex: the last bottleneck of the last stage. */
    public String lastVertex() {
      return "layer4_" + (depths[3] - 1);
    }
  }

  /** ResNet50's shape. */
  public static final Shape RESNET50 =
      new Shape(64, new int[] {64, 128, 256, 512}, new int[] {3, 4, 6, 3});

  private TorchResNet() {}

  /** ResNet50 v1.5 up to {@link #POOL}, at {@code inputSize} pixels. */
  public static ComputationGraphConfiguration resnet50(int inputSize, long seed) {
    return configuration(RESNET50, inputSize, seed);
  }

  /**
   * A torchvision ResNet of the given shape (smaller ones for tests), ending in {@link #POOL}.
   *
   * @throws GraftException for an input side below {@link #MIN_INPUT_SIZE}
   */
  public static ComputationGraphConfiguration configuration(Shape shape, int inputSize, long seed) {
    if (inputSize < MIN_INPUT_SIZE) {
      throw new GraftException(
          "a ResNet needs an input of at least " + MIN_INPUT_SIZE + " px, got " + inputSize);
    }
    GraphBuilder g = KerasLayers.graph("input_1", inputSize, seed, WeightInit.RELU);
    g.addLayer("conv1", conv(7, 2, 3, shape.stem()), "input_1")
        .addLayer("bn1", batchNorm(), "conv1")
        .addLayer("relu", relu(), "bn1")
        .addLayer(
            "maxpool",
            new SubsamplingLayer.Builder(
                    SubsamplingLayer.PoolingType.MAX, new int[] {3, 3}, new int[] {2, 2})
                .padding(1, 1)
                .convolutionMode(ConvolutionMode.Truncate)
                .build(),
            "relu");
    String x = "maxpool";
    for (int s = 0; s < 4; s++) {
      for (int b = 0; b < shape.depths()[s]; b++) {
        int stride = b == 0 && s > 0 ? 2 : 1;
        x = bottleneck(g, "layer" + (s + 1) + "_" + b, shape.planes()[s], stride, b == 0, x);
      }
    }
    g.addLayer(POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), x);
    g.setOutputs(POOL);
    return g.build();
  }

  /** Block names: {@code stem}, {@code layer1} … {@code layer4}. */
  public static List<String> blockNames() {
    return List.of("stem", "layer1", "layer2", "layer3", "layer4");
  }

  /** The last vertex of each block of {@link #blockNames()}. */
  public static List<String> blockEnds(Shape shape) {
    List<String> ends = new ArrayList<>(List.of("maxpool"));
    for (int s = 0; s < 4; s++) {
      ends.add("layer" + (s + 1) + "_" + (shape.depths()[s] - 1));
    }
    return List.copyOf(ends);
  }

  /** torchvision's Bottleneck: 1×1, 3×3 (stride here: v1.5), 1×1 ×4, shortcut, add, ReLU. */
  private static String bottleneck(
      GraphBuilder g, String name, int planes, int stride, boolean project, String in) {
    g.addLayer(name + "_conv1", conv(1, 1, 0, planes), in)
        .addLayer(name + "_bn1", batchNorm(), name + "_conv1")
        .addLayer(name + "_relu1", relu(), name + "_bn1")
        .addLayer(name + "_conv2", conv(3, stride, 1, planes), name + "_relu1")
        .addLayer(name + "_bn2", batchNorm(), name + "_conv2")
        .addLayer(name + "_relu2", relu(), name + "_bn2")
        .addLayer(name + "_conv3", conv(1, 1, 0, 4 * planes), name + "_relu2")
        .addLayer(name + "_bn3", batchNorm(), name + "_conv3");
    String shortcut = in;
    if (project) {
      g.addLayer(name + "_downsample_0", conv(1, stride, 0, 4 * planes), in)
          .addLayer(name + "_downsample_1", batchNorm(), name + "_downsample_0");
      shortcut = name + "_downsample_1";
    }
    g.addVertex(
            name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), name + "_bn3", shortcut)
        .addLayer(name, relu(), name + "_add");
    return name;
  }

  private static ConvolutionLayer conv(int kernel, int stride, int pad, int out) {
    return new ConvolutionLayer.Builder(kernel, kernel)
        .stride(stride, stride)
        .padding(pad, pad)
        .convolutionMode(ConvolutionMode.Truncate)
        .nOut(out)
        .hasBias(false)
        .build();
  }

  private static BatchNormalization batchNorm() {
    // PyTorch's momentum 0.1 weighs the new batch; DL4J's decay weighs the running value
    return KerasLayers.batchNorm(BATCH_NORM_EPSILON, 0.9).build();
  }

  private static ActivationLayer relu() {
    return new ActivationLayer.Builder().activation(Activation.RELU).build();
  }

  /**
   * The state dict mapping of a ResNet of this shape: torchvision's names (which timm's {@code
   * resnet50.*} keep); {@code fc.*} and {@code num_batches_tracked} are left aside.
   */
  public static StateDictMapping mapping(Shape shape) {
    StateDictMapping.Builder m = StateDictMapping.builder("resnet50-torchvision");
    conv(m, "conv1");
    m.batchNorm("bn1", "bn1");
    for (int s = 0; s < 4; s++) {
      for (int b = 0; b < shape.depths()[s]; b++) {
        String p = "layer" + (s + 1) + "." + b + ".";
        for (int i = 1; i <= 3; i++) {
          conv(m, p + "conv" + i);
          m.batchNorm(p + "bn" + i, vertex(p + "bn" + i));
        }
        if (b == 0) {
          conv(m, p + "downsample.0");
          m.batchNorm(p + "downsample.1", vertex(p + "downsample.1"));
        }
      }
    }
    return m.dialect(
            new Dialect(
                "torchvision/timm",
                UnaryOperator.identity(),
                n -> n.startsWith("fc.") || n.endsWith(".num_batches_tracked")))
        .build();
  }

  private static void conv(StateDictMapping.Builder m, String module) {
    m.add(module + ".weight", vertex(module), "W", TensorConversion.SAME);
  }

  /** The vertex of a torchvision module name: dots become underscores. */
  static String vertex(String module) {
    return module.replace('.', '_');
  }
}
