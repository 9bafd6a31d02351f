package dev.graft.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ChannelMultiplyVertexTest {
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

  /** conv -> (squeeze -> factors) -> excite -> pool -> softmax; factors [N,C,1,1] or [N,C]. */
  private static ComputationGraph squeezeExcite(boolean flatFactors, DataType type) {
    return squeezeExcite(flatFactors, type, false);
  }

  /**
   * As above; with {@code denseCopy}, the convolution's output reaches the vertex through an
   * identity activation layer, which hands over a dense C-order copy (DL4J's convolution output is
   * a permuted view), as the oneDNN training path does.
   */
  private static ComputationGraph squeezeExcite(
      boolean flatFactors, DataType type, boolean denseCopy) {
    var g =
        new NeuralNetConfiguration.Builder()
            .seed(7)
            .dataType(type)
            .weightInit(WeightInit.XAVIER)
            .updater(new org.nd4j.linalg.learning.config.NoOp())
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(5, 4, 2))
            .addLayer(
                "conv",
                new ConvolutionLayer.Builder(3, 3)
                    .convolutionMode(ConvolutionMode.Same)
                    .nOut(3)
                    .activation(Activation.TANH)
                    .build(),
                "in")
            .addLayer(
                "squeeze",
                new GlobalPoolingLayer.Builder(PoolingType.AVG)
                    .collapseDimensions(flatFactors)
                    .build(),
                "conv");
    if (flatFactors) {
      g.addLayer(
          "factors",
          new DenseLayer.Builder().nOut(3).activation(Activation.SIGMOID).build(),
          "squeeze");
    } else {
      g.addLayer(
          "factors",
          new ConvolutionLayer.Builder(1, 1).nOut(3).activation(Activation.SIGMOID).build(),
          "squeeze");
    }
    if (denseCopy) {
      g.addLayer("copy", new ActivationLayer(Activation.IDENTITY), "conv");
    }
    g.addVertex("excite", new ChannelMultiplyVertex(), denseCopy ? "copy" : "conv", "factors")
        .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "excite")
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
  void gradientsMatchFiniteDifferencesForBothFactorShapes() {
    for (boolean flat : new boolean[] {false, true}) {
      ComputationGraph net = squeezeExcite(flat, DataType.DOUBLE);
      INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2, 5, 4).subi(0.5);
      INDArray y = Nd4j.zeros(DataType.DOUBLE, 3, 2);
      y.putScalar(0, 0, 1).putScalar(1, 1, 1).putScalar(2, 0, 1);
      boolean ok =
          GradientCheckUtil.checkGradients(
              new GradientCheckUtil.GraphConfig()
                  .net(net)
                  .inputs(new INDArray[] {x})
                  .labels(new INDArray[] {y})
                  .epsilon(1e-6)
                  .maxRelError(1e-3)
                  .minAbsoluteError(1e-8));
      assertTrue(ok, "gradient check, factors " + (flat ? "[N,C]" : "[N,C,1,1]"));
    }
  }

  @Test
  void floatRunsAsDoubleForBothFactorShapes() {
    // FP32 NCHW takes the one-pass products (FloatChunks); the same network in double takes ND4J's
    // broadcast: outputs and every gradient agree to float precision
    for (boolean flat : new boolean[] {false, true}) {
      ComputationGraph reference = squeezeExcite(flat, DataType.DOUBLE, true);
      ComputationGraph fast = squeezeExcite(flat, DataType.FLOAT, true);
      fast.setParams(reference.params().castTo(DataType.FLOAT));
      INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2, 5, 4).subi(0.5);
      INDArray y = Nd4j.zeros(DataType.DOUBLE, 3, 2);
      y.putScalar(0, 0, 1).putScalar(1, 1, 1).putScalar(2, 0, 1);
      INDArray expected = reference.feedForward(x, false).get("excite");
      INDArray actual = fast.feedForward(x.castTo(DataType.FLOAT), false).get("excite");
      assertEquals(
          0, expected.sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-6);
      for (ComputationGraph net : List.of(reference, fast)) {
        net.setInputs(x.castTo(net.params().dataType()));
        net.setLabels(y.castTo(net.params().dataType()));
        net.computeGradientAndScore();
      }
      INDArray g = reference.gradient().gradient();
      INDArray gf = fast.gradient().gradient().castTo(DataType.DOUBLE);
      double rel = g.sub(gf).norm2Number().doubleValue() / g.norm2Number().doubleValue();
      assertTrue(rel < 1e-5, "relative gradient difference " + rel);
    }
  }

  @Test
  void forwardIsTheBroadcastProduct() {
    ComputationGraph net = squeezeExcite(false, DataType.DOUBLE);
    INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 2, 5, 4);
    var acts = net.feedForward(x, false);
    INDArray conv = acts.get("conv");
    INDArray s = acts.get("factors");
    INDArray out = acts.get("excite");
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 3; c++) {
        for (int h = 0; h < 5; h++) {
          for (int w = 0; w < 4; w++) {
            assertEquals(
                conv.getDouble(n, c, h, w) * s.getDouble(n, c, 0, 0),
                out.getDouble(n, c, h, w),
                1e-12);
          }
        }
      }
    }
  }

  @Test
  void savesAndReloadsWithModelSerializerAndJson(@TempDir Path dir) throws IOException {
    ComputationGraph net = squeezeExcite(false, DataType.FLOAT);
    String json = net.getConfiguration().toJson();
    assertTrue(json.contains(ChannelMultiplyVertex.class.getName()), json);
    assertEquals(net.getConfiguration(), ComputationGraphConfiguration.fromJson(json));
    Path zip = dir.resolve("se.zip");
    ModelSerializer.writeModel(net, zip.toFile(), true);
    ComputationGraph back = ModelSerializer.restoreComputationGraph(zip.toFile(), true);
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 2, 5, 4);
    assertEquals(net.outputSingle(x), back.outputSingle(x));
  }

  @Test
  void refusesFactorsThatDoNotMatchTheChannels() {
    var v = new ChannelMultiplyVertex();
    assertThrows(
        org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException.class,
        () -> v.getOutputType(-1, InputType.convolutional(4, 4, 3), InputType.feedForward(5)));
    assertThrows(
        org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException.class,
        () ->
            v.getOutputType(
                -1, InputType.convolutional(4, 4, 3), InputType.convolutional(2, 2, 3)));
  }

  @Test
  void multipliesNhwcActivationsAlongTheirLastAxisAndKeepsTheLayoutInJson() {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE)
                .graphBuilder()
                .addInputs("x", "s")
                .addVertex("m", new ChannelMultiplyVertex(CNN2DFormat.NHWC), "x", "s")
                .setOutputs("m")
                .build());
    g.init();
    INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 5, 4, 3);
    INDArray s = Nd4j.rand(DataType.DOUBLE, 2, 3);
    INDArray out = g.outputSingle(false, x, s);
    for (int n = 0; n < 2; n++) {
      for (int h = 0; h < 5; h++) {
        for (int w = 0; w < 4; w++) {
          for (int c = 0; c < 3; c++) {
            assertEquals(
                x.getDouble(n, h, w, c) * s.getDouble(n, c), out.getDouble(n, h, w, c), 1e-12);
          }
        }
      }
    }
    String json = g.getConfiguration().toJson();
    assertTrue(json.contains("NHWC"), json);
    assertEquals(g.getConfiguration(), ComputationGraphConfiguration.fromJson(json));
  }

  @Test
  void nhwcPassesInFloatMatchTheBroadcastInDouble() {
    // FP32 NHWC takes the one-pass products (ChannelsLastPasses), as a channels-last training
    // network runs them; checked against the products written out in double
    for (long[] factorShape : new long[][] {{3, 6}, {3, 1, 1, 6}}) {
      Nd4j.getRandom().setSeed(9);
      INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 5, 4, 6).subi(0.5);
      INDArray s = Nd4j.rand(DataType.DOUBLE, factorShape);
      INDArray eps = Nd4j.rand(DataType.DOUBLE, 3, 5, 4, 6).subi(0.5);
      INDArray s4 = s.reshape(3, 1, 1, 6).broadcast(3, 5, 4, 6);
      ComputationGraph g =
          new ComputationGraph(
              new NeuralNetConfiguration.Builder()
                  .dataType(DataType.FLOAT)
                  .graphBuilder()
                  .addInputs("x", "s")
                  .addVertex("m", new ChannelMultiplyVertex(CNN2DFormat.NHWC), "x", "s")
                  .setOutputs("m")
                  .build());
      g.init();
      org.deeplearning4j.nn.graph.vertex.GraphVertex m = g.getVertex("m");
      var noWorkspaces = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
      m.setInput(0, x.castTo(DataType.FLOAT), noWorkspaces);
      m.setInput(1, s.castTo(DataType.FLOAT), noWorkspaces);
      INDArray out = m.doForward(true, noWorkspaces);
      m.setEpsilon(eps.castTo(DataType.FLOAT));
      INDArray[] grads = m.doBackward(false, noWorkspaces).getSecond();
      assertEquals(0, x.mul(s4).sub(out.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-6);
      assertEquals(
          0, eps.mul(s4).sub(grads[0].castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-6);
      assertArrayEquals(factorShape, grads[1].shape());
      INDArray ds = eps.mul(x).sum(1, 2).reshape(factorShape);
      assertEquals(0, ds.sub(grads[1].castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-5);
    }
  }
}
