package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.nn.ActivationSwishTanh;
import dev.graft.perf.NativeTuning;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class InferenceGraphsTest {

  /** conv→BN→relu, conv(no bias)→BN(log std), residual add, relu, pooling; BN stats randomised. */
  private static ComputationGraph residualBlock(boolean logStd) {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(3)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(20, 20, 3))
                .addLayer(
                    "c1",
                    new ConvolutionLayer.Builder(3, 3)
                        .nOut(6)
                        .padding(1, 1)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "in")
                .addLayer("bn1", new BatchNormalization.Builder().useLogStd(logStd).build(), "c1")
                .addLayer("r1", new ActivationLayer(Activation.RELU), "bn1")
                .addLayer(
                    "c2",
                    new ConvolutionLayer.Builder(1, 1)
                        .nOut(6)
                        .hasBias(false)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "r1")
                .addLayer("bn2", new BatchNormalization.Builder().useLogStd(logStd).build(), "c2")
                .addLayer(
                    "c3",
                    new ConvolutionLayer.Builder(1, 1)
                        .nOut(6)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "in")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", "c3")
                .addLayer("r2", new ActivationLayer(Activation.RELU), "add")
                .addLayer("pool", new SubsamplingLayer.Builder(2, 2).stride(2, 2).build(), "r2")
                .addLayer("bn3", new BatchNormalization.Builder().useLogStd(logStd).build(), "pool")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn3")
                .setOutputs("gap")
                .build());
    g.init();
    Nd4j.getRandom().setSeed(11);
    for (String bn : new String[] {"bn1", "bn2", "bn3"}) {
      var l = g.getLayer(bn);
      l.getParam("gamma").assign(Nd4j.rand(DataType.FLOAT, l.getParam("gamma").shape()).addi(0.5));
      l.getParam("beta").assign(Nd4j.randn(DataType.FLOAT, l.getParam("beta").shape()));
      l.getParam("mean").assign(Nd4j.randn(DataType.FLOAT, l.getParam("mean").shape()));
      String v = logStd ? "log10stdev" : "var";
      l.getParam(v)
          .assign(Nd4j.rand(DataType.FLOAT, l.getParam(v).shape()).addi(logStd ? -0.5 : 0.3));
    }
    return g;
  }

  private static void assertClose(INDArray expected, INDArray actual) {
    double maxAbs = Math.max(1e-3, expected.amaxNumber().doubleValue());
    double diff = expected.sub(actual).amaxNumber().doubleValue();
    assertTrue(diff <= 1e-4 * maxAbs, "max difference " + diff + " (scale " + maxAbs + ")");
  }

  @Test
  void foldsBatchNormAndFusesActivationsWithTheSameOutput() {
    for (boolean logStd : new boolean[] {true, false}) {
      ComputationGraph g = residualBlock(logStd);
      INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 20, 20).subi(0.5);
      INDArray before = g.outputSingle(false, x.dup());
      ComputationGraph fast = InferenceGraphs.optimize(g);
      assertNull(fast.getVertex("bn1"), "bn1 folded into c1");
      assertNull(fast.getVertex("r1"), "r1 fused into c1");
      assertNull(fast.getVertex("bn2"), "bn2 folded into c2");
      assertNull(fast.getVertex("r2"), "the relu after the add fused into it");
      assertInstanceOf(
          dev.graft.nn.SumActivationVertex.class,
          fast.getConfiguration().getVertices().get("add"),
          "the add and its relu run as one vertex");
      assertEquals(
          "relu",
          ((dev.graft.nn.SumActivationVertex) fast.getConfiguration().getVertices().get("add"))
              .getActivation()
              .toString());
      assertNotNull(fast.getVertex("bn3"), "BN after pooling stays");
      assertEquals(g.getNumLayers() - 4, fast.getNumLayers());
      assertClose(before, fast.outputSingle(false, x.dup()));
      assertClose(before, g.outputSingle(false, x.dup())); // the source is untouched
    }
  }

  @Test
  void foldsBatchNormIntoDepthwiseConvolutionsOfMobileNetV2AndEfficientNet() {
    for (var a :
        new dev.graft.base.Architecture[] {
          dev.graft.base.Architecture.MOBILENET_V2, dev.graft.base.Architecture.EFFICIENTNET_B0
        }) {
      ComputationGraph g = a.build(32, 5);
      Nd4j.getRandom().setSeed(12);
      for (var l : g.getLayers()) {
        if (l.conf().getLayer() instanceof BatchNormalization) {
          l.getParam("gamma")
              .assign(Nd4j.rand(DataType.FLOAT, l.getParam("gamma").shape()).addi(0.5));
          l.getParam("beta")
              .assign(Nd4j.randn(DataType.FLOAT, l.getParam("beta").shape()).muli(0.1));
          l.getParam("mean")
              .assign(Nd4j.randn(DataType.FLOAT, l.getParam("mean").shape()).muli(0.1));
          l.getParam("var").assign(Nd4j.rand(DataType.FLOAT, l.getParam("var").shape()).addi(0.5));
        }
      }
      INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32).subi(0.5);
      INDArray before = g.outputSingle(false, x.dup());
      ComputationGraph fast = InferenceGraphs.optimize(g);
      String bn =
          a == dev.graft.base.Architecture.MOBILENET_V2 ? "block_1_depthwise_BN" : "block2a_bn";
      assertNull(fast.getVertex(bn), bn + " folded into its depthwise convolution");
      assertClose(before, fast.outputSingle(false, x.dup()));
      if (NativeTuning.oneDnnAvailable()) {
        // NHWC from the input to the output: the only copy back to NCHW is the output's (the
        // squeeze-and-excitation pools read views)
        long copiesToNchw =
            fast.getConfiguration().getVertices().values().stream()
                .filter(
                    v ->
                        v instanceof LayoutVertex l
                            && l.getTo() == org.deeplearning4j.nn.conf.CNN2DFormat.NCHW
                            && !l.isView())
                .count();
        assertEquals(1, copiesToNchw, a.name());
        // EfficientNet's swish runs on oneDNN's tanh, in the convolutions and the stem's layer
        long swish = 0;
        for (var l : fast.getLayers()) {
          var c = l.conf().getLayer();
          var fn =
              c instanceof org.deeplearning4j.nn.conf.layers.BaseLayer b
                  ? b.getActivationFn()
                  : c instanceof ActivationLayer al ? al.getActivationFn() : null;
          assertFalse(fn instanceof ActivationSwish, l.conf().getLayer().getLayerName());
          swish += fn instanceof ActivationSwishTanh ? 1 : 0;
        }
        assertEquals(
            a == dev.graft.base.Architecture.EFFICIENTNET_B0, swish > 30, a + ": " + swish);
        // every global pooling (EfficientNet's squeeze-and-excitation, the head's) averaged the
        // NHWC map it reads through a view in one pass
        long pools = 0;
        for (var l : fast.getLayers()) {
          if (l.conf().getLayer() instanceof GlobalPoolingLayer) {
            assertTrue(
                l instanceof OnePassGlobalPooling.OnePassLayer p && p.onePassCount() == 1,
                l.conf().getLayer().getLayerName() + " pooled in one pass");
            pools++;
          }
        }
        assertEquals(
            a == dev.graft.base.Architecture.EFFICIENTNET_B0, pools > 10, a + ": " + pools);
      }
    }
  }

  @Test
  void unwrapsFrozenLayers() {
    ComputationGraph g = residualBlock(true);
    ComputationGraph frozen =
        new TransferLearning.GraphBuilder(g).setFeatureExtractor("gap").build();
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 20, 20);
    INDArray before = frozen.outputSingle(false, x.dup());
    ComputationGraph fast = InferenceGraphs.optimize(frozen);
    assertNull(fast.getVertex("bn1"));
    assertClose(before, fast.outputSingle(false, x.dup()));
  }

  /**
   * Zero padding, a strided 3x3 convolution, a depthwise one, max pooling, a residual add and a
   * dense layer behind a flatten; outputs: the dense layer and a convolution that also feeds the
   * rest (so it is renamed inside the NHWC part).
   */
  private static ComputationGraph mixedLayouts() {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(5)
                .activation(Activation.IDENTITY)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(18, 18, 3))
                .addLayer("pad", new ZeroPaddingLayer.Builder(0, 1, 0, 1).build(), "in")
                .addLayer(
                    "c1",
                    new ConvolutionLayer.Builder(3, 3)
                        .stride(2, 2)
                        .nOut(8)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .build(),
                    "pad")
                .addLayer("r1", new ActivationLayer(Activation.RELU6), "c1")
                .addLayer(
                    "dw",
                    new DepthwiseConvolution2D.Builder(3, 3)
                        .depthMultiplier(1)
                        .convolutionMode(ConvolutionMode.Same)
                        .build(),
                    "r1")
                .addLayer(
                    "c2",
                    new ConvolutionLayer.Builder(1, 1)
                        .nOut(8)
                        .hasBias(false)
                        .activation(Activation.TANH)
                        .build(),
                    "dw")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "c2", "r1")
                .addLayer("pool", new SubsamplingLayer.Builder(2, 2).stride(2, 2).build(), "add")
                .addLayer(
                    "out",
                    new OutputLayer.Builder().nOut(5).activation(Activation.SOFTMAX).build(),
                    "pool")
                .setOutputs("out", "c2")
                .build());
    g.init();
    return g;
  }

  @Test
  void runsConvolutionsOnNhwcWithTheSameOutputs() {
    ComputationGraph g = mixedLayouts();
    INDArray x = Nd4j.rand(DataType.FLOAT, 3, 3, 18, 18).subi(0.5);
    // DL4J's output() fails on a network output that feeds other vertices: read the activations
    var acts = g.feedForward(x.dup(), false);
    INDArray[] before = {acts.get("out"), acts.get("c2")};
    ComputationGraph fast = InferenceGraphs.optimize(g);
    assertEquals(List.of("out", "c2"), fast.getConfiguration().getNetworkOutputs());
    INDArray[] after = fast.output(false, x.dup());
    for (int i = 0; i < before.length; i++) {
      assertArrayEquals(before[i].shape(), after[i].shape());
      assertClose(before[i], after[i]);
    }
    Assumptions.assumeTrue(NativeTuning.oneDnnAvailable(), "NHWC only where oneDNN runs");
    var vertices = fast.getConfiguration().getVertices();
    assertInstanceOf(
        NhwcConvolution.class,
        ((LayerVertex) vertices.get("c1")).getLayerConf().getLayer(),
        "c1 runs on NHWC");
    assertInstanceOf(LayoutVertex.class, vertices.get("c2"), "output c2 converted back to NCHW");
    long conversions = vertices.values().stream().filter(v -> v instanceof LayoutVertex).count();
    // the image input, c2 as an output, pool into the dense layer
    assertEquals(3, conversions, vertices.keySet().toString());
  }

  @Test
  void keepsNchwWhenTold() {
    ComputationGraph g = mixedLayouts();
    System.setProperty(InferenceGraphs.NHWC_PROPERTY, "false");
    try {
      ComputationGraph fast = InferenceGraphs.optimize(g);
      assertTrue(
          fast.getConfiguration().getVertices().values().stream()
              .noneMatch(v -> v instanceof LayoutVertex));
      INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 18, 18);
      assertClose(
          g.feedForward(x.dup(), false).get("out"), fast.feedForward(x.dup(), false).get("out"));
    } finally {
      System.clearProperty(InferenceGraphs.NHWC_PROPERTY);
    }
  }

  /**
   * Zero paddings before truncate-mode convolutions, as Keras's {@code correct_pad} builds them for
   * an even side (one row more at the bottom and right), an odd one, and a symmetric one; swish
   * convolutions (plain and depthwise) after them.
   */
  private static ComputationGraph paddedConvolutions() {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(5)
                .activation(Activation.SWISH)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(20, 20, 3))
                .addLayer("pad1", new ZeroPaddingLayer.Builder(0, 1, 0, 1).build(), "in")
                .addLayer(
                    "c1",
                    new ConvolutionLayer.Builder(3, 3)
                        .stride(2, 2)
                        .nOut(8)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .build(),
                    "pad1")
                .addLayer("pad2", new ZeroPaddingLayer.Builder(1, 2, 1, 2).build(), "c1")
                .addLayer(
                    "dw",
                    new DepthwiseConvolution2D.Builder(5, 5)
                        .stride(2, 2)
                        .depthMultiplier(1)
                        .nOut(8)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .build(),
                    "pad2")
                .addLayer("pad3", new ZeroPaddingLayer.Builder(1, 1).build(), "dw")
                .addLayer(
                    "c3",
                    new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .build(),
                    "pad3")
                .setOutputs("c3")
                .build());
    g.init();
    return g;
  }

  @Test
  void foldsZeroPaddingIntoNhwcConvolutionsAtEverySize() {
    ComputationGraph g = paddedConvolutions();
    ComputationGraph fast = InferenceGraphs.optimize(g);
    // 20 px: the paddings are "same" mode's; 21 and 23: they are not (padded copies, as before)
    for (int side : new int[] {20, 21, 23, 12}) {
      INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, side, side).subi(0.5).muli(4);
      INDArray before = g.outputSingle(false, x.dup());
      INDArray after = fast.outputSingle(false, x.dup());
      assertArrayEquals(before.shape(), after.shape(), "side " + side);
      assertClose(before, after);
    }
    Assumptions.assumeTrue(NativeTuning.oneDnnAvailable(), "NHWC only where oneDNN runs");
    var vertices = fast.getConfiguration().getVertices();
    for (String pad : new String[] {"pad1", "pad2", "pad3"}) {
      assertNull(vertices.get(pad), pad + " folded into the convolution after it");
    }
    var c1 = (NhwcConvolution) ((LayerVertex) vertices.get("c1")).getLayerConf().getLayer();
    assertArrayEquals(new int[] {0, 1, 0, 1}, c1.getInputPadding());
    var dw =
        (NhwcDepthwiseConvolution) ((LayerVertex) vertices.get("dw")).getLayerConf().getLayer();
    assertArrayEquals(new int[] {1, 2, 1, 2}, dw.getInputPadding());
    assertInstanceOf(ActivationSwishTanh.class, dw.getActivationFn());
    var c3 = (NhwcConvolution) ((LayerVertex) vertices.get("c3_nhwc")).getLayerConf().getLayer();
    assertNull(c3.getInputPadding(), "a symmetric padding becomes the convolution's own");
    // the configuration's shapes still follow the padded input (memory estimates, FLOP counts)
    var types = g.getConfiguration().getLayerActivationTypes(InputType.convolutional(20, 20, 3));
    var fastTypes =
        fast.getConfiguration().getLayerActivationTypes(InputType.convolutional(20, 20, 3));
    assertEquals(
        types.get("c1").toString(), fastTypes.get("c1").toString().replace("NHWC", "NCHW"));
    assertEquals(
        types.get("dw").toString(), fastTypes.get("dw").toString().replace("NHWC", "NCHW"));
    assertArrayEquals(new int[] {1, 1}, c3.getPadding());
  }

  @Test
  void samePaddingMatchesOnlyWhereTheExplicitPaddingComputesTheSame() {
    int[] k3 = {3, 3};
    int[] s2 = {2, 2};
    int[] d1 = {1, 1};
    // Keras's correct_pad at an even side: top 0, bottom 1; at an odd side: 1 and 1
    assertArrayEquals(
        new int[] {0, 0},
        NhwcGeometry.samePadding(new int[] {112, 112}, k3, s2, d1, new int[] {0, 1, 0, 1}));
    assertNull(NhwcGeometry.samePadding(new int[] {113, 113}, k3, s2, d1, new int[] {0, 1, 0, 1}));
    assertArrayEquals(
        new int[] {1, 1},
        NhwcGeometry.samePadding(new int[] {113, 113}, k3, s2, d1, new int[] {1, 1, 1, 1}));
    assertArrayEquals(
        new int[] {1, 1},
        NhwcGeometry.samePadding(
            new int[] {56, 56}, new int[] {5, 5}, s2, d1, new int[] {1, 2, 1, 2}));
    // ResNet's stem: 3 on each side of a 7x7 stride-2 window is not "same" mode (2 on top)
    assertNull(
        NhwcGeometry.samePadding(
            new int[] {224, 224}, new int[] {7, 7}, s2, d1, new int[] {3, 3, 3, 3}));
  }
}
