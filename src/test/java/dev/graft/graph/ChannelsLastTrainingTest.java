package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.nn.ChannelMultiplyVertex;
import dev.graft.perf.NativeTuning;
import java.util.List;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A training network made of an inverted-residual block (MobileNetV2's and EfficientNet's) runs
 * channels-last ({@link TrainingLayout}): its pointwise convolutions as GEMMs, its pooling and
 * squeeze-and-excitation as {@link dev.graft.perf.ChannelsLastPasses}, with the gradients, score
 * and Adam steps of DL4J's own NCHW path.
 */
class ChannelsLastTrainingTest {

  @BeforeAll
  static void natives() {
    NativeTuning.apply();
  }

  /**
   * Expansion, depthwise convolution, squeeze-and-excitation, projection and a residual add, then a
   * top convolution and the head, as EfficientNetB0's last block; one BatchNorm trains with batch
   * statistics, the others run in inference mode.
   */
  private static ComputationGraphConfiguration block() {
    ComputationGraphConfiguration.GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(TrainingHelpersTest.SEED)
            .dataType(DataType.FLOAT)
            .updater(new Adam(1e-2))
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(5, 5, 8));
    g.addLayer(
        "expand",
        new ConvolutionLayer.Builder(1, 1)
            .nOut(24)
            .hasBias(false)
            .activation(Activation.IDENTITY)
            .build(),
        "in");
    g.addLayer("expand_bn", new BatchNormalization.Builder().build(), "expand");
    g.addLayer("expand_act", new ActivationLayer(Activation.SWISH), "expand_bn");
    g.addLayer(
        "dw",
        new DepthwiseConvolution2D.Builder(3, 3)
            .depthMultiplier(1)
            .nOut(24)
            .hasBias(false)
            .activation(Activation.IDENTITY)
            .build(),
        "expand_act");
    g.addLayer("dw_bn", new BatchNormalization.Builder().build(), "dw");
    g.addLayer("dw_act", new ActivationLayer(Activation.SWISH), "dw_bn");
    g.addLayer(
        "se_pool",
        new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
        "dw_act");
    g.addLayer(
        "se_reduce",
        new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.SWISH).build(),
        "se_pool");
    g.addLayer(
        "se_gate",
        new ConvolutionLayer.Builder(1, 1).nOut(24).activation(Activation.SIGMOID).build(),
        "se_reduce");
    g.addVertex("se", new ChannelMultiplyVertex(), "dw_act", "se_gate");
    g.addLayer(
        "project",
        new ConvolutionLayer.Builder(1, 1)
            .nOut(8)
            .hasBias(false)
            .activation(Activation.IDENTITY)
            .build(),
        "se");
    g.addLayer("project_bn", new BatchNormalization.Builder().build(), "project");
    g.addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "project_bn", "in");
    g.addLayer(
        "top",
        new ConvolutionLayer.Builder(1, 1).nOut(16).activation(Activation.IDENTITY).build(),
        "add");
    g.addLayer("top_act", new ActivationLayer(Activation.RELU6), "top");
    g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "top_act");
    g.addLayer(
        "out",
        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
            .nOut(3)
            .activation(Activation.SOFTMAX)
            .build(),
        "gap");
    g.setOutputs("out");
    return g.build();
  }

  /** The block rebuilt for fine-tuning on DL4J's own layers, {@code project_bn} training. */
  private static ComputationGraph reference() {
    ComputationGraph source = new ComputationGraph(block());
    source.init();
    for (String bn : List.of("expand_bn", "dw_bn")) {
      // statistics away from 0/1, so the inference-mode layers do real work
      source.getLayer(bn).setParam("mean", Nd4j.rand(DataType.FLOAT, 1, 24).subi(0.5));
      source.getLayer(bn).setParam("var", Nd4j.rand(DataType.FLOAT, 1, 24).addi(0.5));
    }
    return TrainingHelpersTest.rebuilt(source, "expand_bn|dw_bn", new Adam(1e-2), 0.01);
  }

  private static MultiDataSet batch() {
    Nd4j.getRandom().setSeed(TrainingHelpersTest.SEED);
    INDArray x = Nd4j.rand(DataType.FLOAT, 6, 8, 5, 5).subi(0.5).muli(4);
    INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 3);
    for (int i = 0; i < 6; i++) {
      y.putScalar(i, i % 3, 1);
    }
    return new MultiDataSet(x, y);
  }

  private static CNN2DFormat format(ComputationGraph net, String layer) {
    return ((ConvolutionLayer) net.getLayer(layer).conf().getLayer()).getCnn2dDataFormat();
  }

  @Test
  void theBlockTrainsChannelsLastWithTheReferenceGradientsAndSteps() {
    Assumptions.assumeTrue(NativeTuning.oneDnnAvailable(), "channels-last training needs oneDNN");
    ComputationGraph ref = reference();
    ComputationGraph fast = TrainingHelpersTest.withHelpers(ref);
    for (String conv : List.of("expand", "dw", "se_reduce", "se_gate", "project", "top")) {
      assertEquals(CNN2DFormat.NCHW, format(ref, conv), conv + " in the reference network");
      assertEquals(CNN2DFormat.NHWC, format(fast, conv), conv + " in the training network");
    }
    assertEquals(
        java.util.Set.of("in_nhwc", "dw_act_nchw_view", "se_pool_nhwc", "top_act_nchw_view"),
        fast.getConfiguration().getVertices().entrySet().stream()
            .filter(e -> e.getValue() instanceof LayoutVertex)
            .map(java.util.Map.Entry::getKey)
            .collect(java.util.stream.Collectors.toSet()),
        "the network's input is converted once, for the expansion and the residual add; the"
            + " poolings read views; the squeeze's [n, c, 1, 1] output is the one other copy");
    assertEquals(
        List.of("project_bn", "in_nhwc"), fast.getConfiguration().getVertexInputs().get("add"));
    assertTrue(
        fast.getVertex("in_nhwc") instanceof Layout l && l.dropsGradients(),
        "the input's conversion, like the input itself, takes no gradient");
    MultiDataSet ds = batch();
    TrainingHelpersTest.assertSameGradients(ref, fast, ds, 12);
    for (String conv : List.of("expand", "se_reduce", "se_gate", "project", "top")) {
      TrainingConvolutionHelper h =
          (TrainingConvolutionHelper)
              ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) fast.getLayer(conv))
                  .getHelper();
      assertEquals(
          TrainingConvolutionHelper.Pass.CHANNELS_LAST,
          h.lastForward(),
          conv + " runs forward as a GEMM of its rows");
      assertEquals(
          TrainingConvolutionHelper.Pass.CHANNELS_LAST,
          h.lastBackward(),
          conv + " trains as GEMMs of its rows");
      assertEquals(
          !conv.equals("expand"),
          h.computesInputGradient(),
          conv + " computes its input gradient only when something reads it");
      assertEquals(0, TrainingHelpersTest.helperFailures(fast, conv), conv + " fell back");
    }
    assertTrue(
        fast.getLayer("dw") instanceof TrainingDepthwiseConvolution.CachingLayer dw
            && dw.channelsLastBackwardCount() == 1,
        "the depthwise convolution's backward pass ran channels-last");
    for (String pool : List.of("se_pool", "gap")) {
      assertTrue(
          fast.getLayer(pool) instanceof OnePassGlobalPooling.OnePassLayer p
              && p.onePassCount() == 2,
          pool + " pooled the channels-last map and backpropagated in one pass each");
    }
    TrainingHelpersTest.assertSameAdamSteps(ref, fast, ds, reference());
  }

  @Test
  void theSystemPropertyKeepsTrainingNetworksOnNchw() {
    String before = System.getProperty(TrainingLayout.PROPERTY);
    System.setProperty(TrainingLayout.PROPERTY, "false");
    try {
      ComputationGraph fast = TrainingHelpersTest.withHelpers(reference());
      for (String conv : List.of("expand", "dw", "project", "top")) {
        assertEquals(CNN2DFormat.NCHW, format(fast, conv), conv);
      }
      assertFalse(
          fast.getConfiguration().getVertices().keySet().stream()
              .anyMatch(v -> v.endsWith("_nhwc")),
          "no layout conversions");
    } finally {
      if (before == null) {
        System.clearProperty(TrainingLayout.PROPERTY);
      } else {
        System.setProperty(TrainingLayout.PROPERTY, before);
      }
    }
  }
}
