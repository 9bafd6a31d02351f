package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.graph.ParameterTransfer;
import dev.graft.graph.Topology;
import dev.graft.graph.Truncation;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.preprocessors.TensorFlowCnnToFeedForwardPreProcessor;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The graph surgery under the weight sources, on graphs small enough to reason about. */
class GraphsTest {
  /**
   * A Keras-imported style source: BatchNorm with Keras's epsilon and plain variance, a
   * channels-last flatten vertex before the dense layer.
   */
  private static ComputationGraph kerasStyle() {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(1)
                .graphBuilder()
                .addInputs("input_1")
                .setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer(
                    "conv",
                    new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "input_1")
                .addLayer(
                    "bn",
                    new BatchNormalization.Builder().eps(1e-3).useLogStd(false).build(),
                    "conv")
                .addVertex(
                    "flatten",
                    new PreprocessorVertex(new TensorFlowCnnToFeedForwardPreProcessor(6, 6, 4)),
                    "bn")
                .addLayer(
                    "fc",
                    new DenseLayer.Builder().nIn(144).nOut(5).activation(Activation.TANH).build(),
                    "flatten")
                .setOutputs("fc")
                .build());
    g.init();
    g.getLayer("bn").getParam("var").assign(Nd4j.rand(1, 4).muli(0.002));
    g.getLayer("bn").getParam("mean").assign(Nd4j.rand(1, 4));
    return g;
  }

  /** The same network as Graft would declare it: DL4J defaults, automatic NCHW flattening. */
  private static ComputationGraph graftStyle(String convName) {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(2)
                .graphBuilder()
                .addInputs("input_1")
                .setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer(
                    convName,
                    new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "input_1")
                .addLayer("bn", new BatchNormalization.Builder().build(), convName)
                .addLayer(
                    "fc",
                    new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build(),
                    "bn")
                .setOutputs("fc")
                .build());
    g.init();
    return g;
  }

  @Test
  void transferKeepsWhatTheWeightsWereTrainedWith() {
    ComputationGraph source = kerasStyle();
    ComputationGraph target = graftStyle("stem"); // "stem" pairs with "conv" by order
    INDArray x = Nd4j.rand(2, 3, 8, 8);
    INDArray expected = source.outputSingle(x);

    // Parameters alone are not enough: epsilon and flattening order change the numbers.
    ComputationGraph naive = graftStyle("stem");
    naive.getLayer("stem").params().assign(source.getLayer("conv").params());
    naive.getLayer("fc").params().assign(source.getLayer("fc").params());
    assertNotEquals(expected, naive.outputSingle(x));

    ComputationGraph adapted = ParameterTransfer.fit(source, target, "test weights");
    assertTrue(
        expected.equalsWithEps(adapted.outputSingle(x), 1e-5),
        expected + " vs " + adapted.outputSingle(x));
  }

  @Test
  void transferRefusesWeightsOfAnotherShape() {
    ComputationGraph other =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .graphBuilder()
                .addInputs("input_1")
                .setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer("conv", new ConvolutionLayer.Builder(5, 5).nOut(4).build(), "input_1")
                .setOutputs("conv")
                .build());
    other.init();
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> ParameterTransfer.fit(other, graftStyle("conv"), "file x.zip"));
    assertTrue(
        e.getMessage().contains("file x.zip") && e.getMessage().contains("'conv'"), e.getMessage());
  }

  @Test
  void truncateKeepsParametersAndDropsWhatTheCutDoesNotNeed() {
    ComputationGraph g = graftStyle("conv");
    ComputationGraph cut = Truncation.truncate(g, "bn");
    assertEquals(List.of("bn"), cut.getConfiguration().getNetworkOutputs());
    assertEquals(List.of("conv", "bn"), Topology.runtimeOrder(cut));
    INDArray x = Nd4j.rand(1, 3, 8, 8);
    assertEquals(g.feedForward(x, false).get("bn"), cut.outputSingle(x));
    assertEquals(g.getLayer("conv").params(), cut.getLayer("conv").params());
  }
}
