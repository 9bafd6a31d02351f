package dev.graft.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link ChannelLayerNorm}, {@link LayerScale} and {@link ActivationGeluErf}: gradients against
 * finite differences (in double), forward values against the formulas, stochastic depth in training
 * only, and a save/load round trip.
 */
class TorchLayersTest {

  /** conv(GELU) -> LayerNorm over channels -> layer scale -> + input -> pool -> softmax. */
  private static ComputationGraph block(DataType type, double dropPath, boolean pooledNorm) {
    ComputationGraphConfiguration.GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(3)
            .dataType(type)
            .updater(new NoOp())
            .weightInit(WeightInit.XAVIER)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(4, 3, 3, CNN2DFormat.NCHW))
            .addLayer(
                "conv",
                new ConvolutionLayer.Builder(1, 1)
                    .nOut(3)
                    .activation(new ActivationGeluErf())
                    .build(),
                "in")
            .addLayer("norm", new ChannelLayerNorm.Builder().eps(1e-6).build(), "conv")
            .addLayer(
                "scale",
                new LayerScale.Builder().initialValue(0.7).dropPath(dropPath).build(),
                "norm")
            .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "scale", "in");
    String last = "add";
    if (pooledNorm) {
      g.addLayer(
              "pool",
              new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
              "add")
          .addLayer("headnorm", new ChannelLayerNorm.Builder().eps(1e-6).build(), "pool");
      last = "headnorm";
    }
    g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last)
        .addLayer(
            "out",
            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(2)
                .activation(Activation.SOFTMAX)
                .build(),
            "gap")
        .setOutputs("out");
    ComputationGraph net = new ComputationGraph(g.build());
    net.init();
    // non-trivial norm and scale parameters
    Nd4j.getRandom().setSeed(5);
    net.getLayer("norm").getParam("gamma").assign(Nd4j.rand(type, 1, 3).addi(0.5));
    net.getLayer("norm").getParam("beta").assign(Nd4j.rand(type, 1, 3).subi(0.5));
    net.getLayer("scale").getParam("gamma").assign(Nd4j.rand(type, 1, 3).addi(0.5));
    return net;
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    DataType previous = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    try {
      checkGradients();
    } finally {
      Nd4j.setDefaultDataTypes(previous, previous);
    }
  }

  private static void checkGradients() {
    for (boolean pooled : new boolean[] {false, true}) {
      ComputationGraph net = block(DataType.DOUBLE, 0, pooled);
      INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 3, 4, 3).subi(0.5).muli(4);
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
      assertTrue(ok, "gradient check, pooled head norm " + pooled);
    }
  }

  @Test
  void forwardIsTheFormula() {
    ComputationGraph net = block(DataType.FLOAT, 0, false);
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 3).subi(0.5).muli(4);
    var acts = net.feedForward(x, false);
    INDArray conv = acts.get("conv");
    // GELU with erf, checked at one point by the series of erf in Java
    INDArray pre = x; // the 1x1 conv's pre-activation is recomputed below
    INDArray w = net.getLayer("conv").getParam("W").reshape(3, 3);
    INDArray b = net.getLayer("conv").getParam("b");
    double z = b.getDouble(0);
    for (int c = 0; c < 3; c++) {
      z += w.getDouble(0, c) * pre.getDouble(1, c, 2, 1);
    }
    assertEquals(z * 0.5 * (1 + erf(z / Math.sqrt(2))), conv.getDouble(1, 0, 2, 1), 1e-5);
    // LayerNorm over the channels of position (1, :, 2, 1)
    double[] v = new double[3];
    double mean = 0;
    for (int c = 0; c < 3; c++) {
      v[c] = conv.getDouble(1, c, 2, 1);
      mean += v[c] / 3;
    }
    double var = 0;
    for (int c = 0; c < 3; c++) {
      var += (v[c] - mean) * (v[c] - mean) / 3;
    }
    INDArray g = net.getLayer("norm").getParam("gamma");
    INDArray be = net.getLayer("norm").getParam("beta");
    INDArray s = net.getLayer("scale").getParam("gamma");
    for (int c = 0; c < 3; c++) {
      double n = (v[c] - mean) / Math.sqrt(var + 1e-6) * g.getDouble(c) + be.getDouble(c);
      assertEquals(n, acts.get("norm").getDouble(1, c, 2, 1), 1e-5);
      assertEquals(n * s.getDouble(c), acts.get("scale").getDouble(1, c, 2, 1), 1e-5);
    }
  }

  /** Abramowitz-Stegun 7.1.26 is too coarse; a Taylor series is exact enough for |x| < 3. */
  private static double erf(double x) {
    double sum = 0;
    double term = x;
    for (int n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  @Test
  void stochasticDepthDropsWholeExamplesInTrainingOnly() {
    ComputationGraph net = block(DataType.FLOAT, 0.5, false);
    INDArray x = Nd4j.rand(DataType.FLOAT, 64, 3, 4, 3);
    INDArray inference = net.feedForward(x, false).get("scale");
    assertEquals(inference, net.feedForward(x, false).get("scale"));
    INDArray training = net.feedForward(x, true).get("scale");
    int dropped = 0;
    for (int n = 0; n < 64; n++) {
      INDArray t = training.slice(n);
      if (t.sumNumber().doubleValue() == 0 && t.amaxNumber().doubleValue() == 0) {
        dropped++;
      } else {
        // kept examples are scaled by 1 / (1 - p) = 2
        assertTrue(t.equalsWithEps(inference.slice(n).mul(2), 1e-5), "example " + n);
      }
    }
    assertTrue(dropped > 10 && dropped < 54, dropped + " of 64 dropped");
    assertNotEquals(inference, training);
  }

  @Test
  void savesAndLoadsWithModelSerializer() throws Exception {
    ComputationGraph net = block(DataType.FLOAT, 0.1, true);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, bytes, false);
    ComputationGraph back =
        ModelSerializer.restoreComputationGraph(
            new ByteArrayInputStream(bytes.toByteArray()), false);
    assertEquals(net.getConfiguration().toJson(), back.getConfiguration().toJson());
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 3);
    assertEquals(net.outputSingle(x), back.outputSingle(x));
  }
}
