package dev.graft.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class SumActivationVertexTest {
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

  /**
   * Two convolutions summed, tanh, pooling, softmax: the sum and the tanh as DL4J's two vertices,
   * or as one {@link SumActivationVertex}.
   */
  private static ComputationGraph residual(boolean fused) {
    var g =
        new NeuralNetConfiguration.Builder()
            .seed(5)
            .dataType(DataType.DOUBLE)
            .weightInit(WeightInit.XAVIER)
            .updater(new org.nd4j.linalg.learning.config.NoOp())
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(5, 4, 2))
            .addLayer(
                "a",
                new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.IDENTITY).build(),
                "in")
            .addLayer(
                "b",
                new ConvolutionLayer.Builder(1, 1).nOut(3).activation(Activation.IDENTITY).build(),
                "in");
    if (fused) {
      g.addVertex("sum", new SumActivationVertex(new ActivationTanH()), "a", "b");
    } else {
      g.addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a", "b");
      g.addLayer("sum", new ActivationLayer(Activation.TANH), "add");
    }
    g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "sum")
        .addLayer(
            "out",
            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(2)
                .activation(Activation.SOFTMAX)
                .build(),
            "pool")
        .setOutputs("out");
    ComputationGraph net = new ComputationGraph(g.build());
    net.init();
    return net;
  }

  @Test
  void forwardAndGradientsEqualDl4jsAddThenActivation() {
    ComputationGraph reference = residual(false);
    ComputationGraph fused = residual(true);
    fused.setParams(reference.params().dup());
    Nd4j.getRandom().setSeed(3);
    INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2, 5, 4).subi(0.5);
    INDArray y = Nd4j.eye(2).getRows(0, 1, 0);
    Map<String, INDArray> ref = reference.feedForward(x, false);
    Map<String, INDArray> got = fused.feedForward(x, false);
    assertTrue(
        ref.get("sum").equalsWithEps(got.get("sum"), 1e-12), "tanh(a + b) as DL4J computes it");
    for (ComputationGraph net : new ComputationGraph[] {reference, fused}) {
      net.setInputs(x);
      net.setLabels(y);
      net.computeGradientAndScore();
    }
    assertEquals(reference.score(), fused.score(), 1e-12);
    INDArray expected = reference.gradient().gradient();
    assertTrue(expected.norm2Number().doubleValue() > 0, "a gradient to compare");
    assertTrue(
        expected.equalsWithEps(fused.gradient().gradient(), 1e-10),
        "the gradients through both inputs as DL4J's two vertices give them");
    assertTrue(
        GradientCheckUtil.checkGradients(
            new GradientCheckUtil.GraphConfig()
                .net(fused)
                .inputs(new INDArray[] {x})
                .labels(new INDArray[] {y})
                .epsilon(1e-6)
                .maxRelError(1e-3)
                .minAbsoluteError(1e-8)),
        "gradient check");
  }

  @Test
  void savesToJsonAndRefusesInputsOfDifferentShapes() {
    ComputationGraphConfiguration conf = residual(true).getConfiguration();
    ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
    assertEquals(conf.getVertices().get("sum"), back.getVertices().get("sum"));
    assertEquals(
        new SumActivationVertex(new ActivationTanH()), back.getVertices().get("sum").clone());
    assertThrows(
        org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException.class,
        () ->
            new SumActivationVertex()
                .getOutputType(
                    -1, InputType.convolutional(5, 4, 2), InputType.convolutional(5, 4, 3)));
  }
}
