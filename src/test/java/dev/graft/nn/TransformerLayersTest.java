package dev.graft.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.vit.VisionTransformer;
import dev.graft.base.vit.VisionTransformer.Spec;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Graft's transformer layers: gradients against finite differences (double precision), the forward
 * pass against a plain ND4J computation of the same formulas, and JSON / model-file round trips.
 */
class TransformerLayersTest {
  private DataType previous;

  @BeforeEach
  void doublePrecision() {
    previous = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
  }

  @AfterEach
  void restore() {
    Nd4j.setDefaultDataTypes(previous, previous);
  }

  /** A tiny vision transformer (8 px input, 4 px patches) with a softmax on its features. */
  static ComputationGraph tiny(Spec spec, int size, DataType type) {
    var g =
        new NeuralNetConfiguration.Builder()
            .seed(7)
            .dataType(type)
            .updater(new NoOp())
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(size, size, 3));
    VisionTransformer.add(g, "in", spec);
    g.addLayer(
            "out",
            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(3)
                .activation(Activation.SOFTMAX)
                .build(),
            VisionTransformer.POOL)
        .setOutputs("out");
    ComputationGraph net = new ComputationGraph(g.build());
    net.init();
    return net;
  }

  static Spec small(double layerScale, int registers, int grid, PositionInterpolation interp) {
    return new Spec(
        4, 8, 2, 2, 12, layerScale, registers, grid, interp, 1e-6, TokenPool.Mode.CLASS_TOKEN, 0);
  }

  private static boolean gradientsOk(ComputationGraph net, int size) {
    INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 3, size, size).subi(0.5);
    INDArray y = Nd4j.zeros(DataType.DOUBLE, 2, 3);
    y.putScalar(0, 0, 1).putScalar(1, 2, 1);
    return GradientCheckUtil.checkGradients(
        new GradientCheckUtil.GraphConfig()
            .net(net)
            .inputs(new INDArray[] {x})
            .labels(new INDArray[] {y})
            .epsilon(1e-6)
            .maxRelError(1e-3)
            .minAbsoluteError(1e-8)
            .subset(true)
            .maxPerParam(3));
  }

  @Test
  void vitGradientsMatchFiniteDifferences() {
    // no layer scale, class token, torchvision's interpolation from a 3x3 grid to 2x2
    ComputationGraph net =
        tiny(small(0, 0, 3, PositionInterpolation.TORCHVISION), 8, DataType.DOUBLE);
    assertTrue(gradientsOk(net, 8));
  }

  @Test
  void dinov2GradientsMatchFiniteDifferences() {
    // layer scale, a register token, DINOv2's interpolation, class token + mean patch token
    Spec spec =
        small(0.5, 1, 3, PositionInterpolation.DINOV2)
            .withPool(TokenPool.Mode.CLASS_AND_MEAN_PATCH);
    ComputationGraph net = tiny(spec, 12, DataType.DOUBLE);
    assertTrue(gradientsOk(net, 12));
  }
}
