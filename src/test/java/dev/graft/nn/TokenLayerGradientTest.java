package dev.graft.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.vit.VisionTransformer;
import dev.graft.base.vit.VisionTransformer.Spec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The vision-transformer layers' gradients against central finite differences, in double precision,
 * on whole tiny transformers (patch embedding, {@link TokenEmbedding} with position embeddings,
 * {@link TokenLayerNorm}, {@link SelfAttention}, {@link TransformerMlp}, {@link TokenLayerScale},
 * {@link ResidualVertex}, {@link TokenPool}, softmax): every parameter of every layer is checked,
 * which also checks the gradient each layer hands to the one before it. Also: stochastic depth acts
 * in training only, and building the backward pass prints nothing on standard output.
 */
class TokenLayerGradientTest {
  private static DataType previous;

  @BeforeAll
  static void doubles() {
    previous = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
  }

  @AfterAll
  static void restore() {
    Nd4j.setDefaultDataTypes(previous, previous);
  }

  /**
   * DINOv2's form: layer scale, 1 register token, positions stored for 2 × 2 patches and
   * interpolated to 3 × 3 (6 px input), class token ⊕ mean patch.
   */
  private static final Spec DINOV2 =
      new Spec(
          2,
          4,
          1,
          2,
          8,
          0.5,
          1,
          2,
          PositionInterpolation.DINOV2,
          1e-6,
          TokenPool.Mode.CLASS_AND_MEAN_PATCH,
          0);

  /**
   * ViT's form: no layer scale or registers, torchvision's interpolation, class token; 2 blocks.
   */
  private static final Spec VIT =
      new Spec(
          2,
          4,
          2,
          2,
          6,
          0,
          0,
          2,
          PositionInterpolation.TORCHVISION,
          1e-6,
          TokenPool.Mode.CLASS_TOKEN,
          0.3);

  /** The tiny transformer with a softmax over 2 classes, in {@code type}, random parameters. */
  static ComputationGraph tiny(Spec spec, int size, int channels, DataType type) {
    ComputationGraphConfiguration.GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(7)
            .dataType(type)
            .updater(new NoOp())
            .weightInit(WeightInit.XAVIER)
            .activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Truncate)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(size, size, channels));
    String features = VisionTransformer.add(g, "in", spec);
    g.addLayer(
            "out",
            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(2)
                .activation(Activation.SOFTMAX)
                .build(),
            features)
        .setOutputs("out");
    ComputationGraph net = new ComputationGraph(g.build());
    net.init();
    // away from the initialisation's special values (LayerNorm 1/0, small tokens, equal scales)
    Nd4j.getRandom().setSeed(11);
    net.params().assign(Nd4j.randn(type, 1, net.numParams()).muli(0.5));
    return net;
  }

  /** One channel: the patch embedding's gradient is the same code for any, and checks are slow. */
  private static void check(Spec spec, int size) {
    ComputationGraph net = tiny(spec, size, 1, DataType.DOUBLE);
    INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 1, size, size).subi(0.5).muli(2);
    INDArray y = Nd4j.zeros(DataType.DOUBLE, 3, 2);
    y.putScalar(0, 0, 1).putScalar(1, 1, 1).putScalar(2, 0, 1);
    boolean ok =
        GradientCheckUtil.checkGradients(
            new GradientCheckUtil.GraphConfig()
                .net(net)
                .inputs(new INDArray[] {x})
                .labels(new INDArray[] {y})
                .epsilon(1e-6)
                .maxRelError(1e-4)
                .minAbsoluteError(1e-9));
    assertTrue(ok, "gradient check (see the log for the parameters that failed)");
  }

  @Test
  void dinov2BlockGradientsMatchFiniteDifferences() {
    check(DINOV2, 6);
  }

  @Test
  void vitBlocksGradientsMatchFiniteDifferences() {
    // one block, native size; DL4J's check runs in training mode with no fixed seed: no drop-path
    check(
        new Spec(
            2,
            4,
            1,
            2,
            4,
            0,
            0,
            2,
            PositionInterpolation.TORCHVISION,
            1e-6,
            TokenPool.Mode.CLASS_TOKEN,
            0),
        4);
  }

  @Test
  void stochasticDepthActsInTrainingOnly() {
    ComputationGraph net = tiny(VIT, 4, 3, DataType.DOUBLE);
    INDArray x = Nd4j.rand(DataType.DOUBLE, 32, 3, 4, 4);
    String add = VisionTransformer.vertex(1, "add2");
    String before = VisionTransformer.vertex(1, "add1");
    INDArray inference = net.feedForward(x, false).get(add);
    assertEquals(inference, net.feedForward(x, false).get(add), "inference is deterministic");
    var training = net.feedForward(x, true);
    // in training, each example's MLP branch is either dropped (add2 = add1) or kept
    int dropped = 0;
    for (int n = 0; n < 32; n++) {
      if (training.get(add).slice(n).equalsWithEps(training.get(before).slice(n), 1e-12)) {
        dropped++;
      }
    }
    assertTrue(dropped > 0 && dropped < 32, dropped + " of 32 dropped");
    assertNotEquals(inference, training.get(add));
  }

  @Test
  void buildingTheBackwardPassPrintsNothing() {
    ComputationGraph net = tiny(DINOV2, 6, 3, DataType.DOUBLE);
    INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 3, 6, 6);
    INDArray y = Nd4j.zeros(DataType.DOUBLE, 2, 2).putScalar(0, 0, 1).putScalar(1, 1, 1);
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      net.setInputs(x);
      net.setLabels(y);
      net.computeGradientAndScore();
      System.out.println("kept");
    } finally {
      System.setOut(original);
    }
    assertEquals("kept" + System.lineSeparator(), captured.toString(StandardCharsets.UTF_8));
  }
}
