package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Preprocessing;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import java.awt.image.BufferedImage;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Grad-CAM on networks built by hand so that the answer is known. */
class GradCamTest {
  static final int S = 16;
  static final ImageTransform T = new ImageTransform(S, ResizeMode.STRETCH, Preprocessing.unit());

  static NeuralNetConfiguration.Builder conv() {
    return new NeuralNetConfiguration.Builder().seed(1);
  }

  /** {@code in} (3 x S x S) into {@code conv}, a 1x1 identity-activated convolution. */
  static ComputationGraphConfiguration.GraphBuilder imageToConv(
      NeuralNetConfiguration.Builder global, int channels) {
    return global
        .graphBuilder()
        .addInputs("in")
        .setInputTypes(InputType.convolutional(S, S, 3))
        .addLayer(
            "conv",
            new ConvolutionLayer.Builder(1, 1)
                .nOut(channels)
                .activation(Activation.IDENTITY)
                .build(),
            "in");
  }

  /** A softmax output layer of {@code classes}. */
  static OutputLayer softmax(int classes) {
    return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
        .nOut(classes)
        .activation(Activation.SOFTMAX)
        .build();
  }

  /** The graph, initialised. */
  static ComputationGraph init(ComputationGraphConfiguration.GraphBuilder gb) {
    ComputationGraph net = new ComputationGraph(gb.setOutputs("head_output").build());
    net.init();
    return net;
  }

  static void copyRedGreen(ComputationGraph net) {
    INDArray w = net.getLayer("conv").getParam("W").assign(0);
    w.putScalar(new long[] {0, 0, 0, 0}, 1);
    w.putScalar(new long[] {1, 1, 0, 0}, 1);
    net.getLayer("conv").getParam("b").assign(0);
  }

  static BufferedImage uniform(int rgb) {
    BufferedImage img = new BufferedImage(S, S, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    return img;
  }

  @Test
  void aFlattenHeadThatOnlyReadsTheTopLeftLightsTheTopLeft() {
    ComputationGraph net = init(imageToConv(conv(), 2).addLayer("head_output", softmax(2), "conv"));
    copyRedGreen(net);
    INDArray w = net.getLayer("head_output").getParam("W").assign(0);
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        w.putScalar(new long[] {y * S + x, 1}, 1.0); // channel 0 (red), class 1
      }
    }
    GradCam cam = GradCam.of(net, T).orElseThrow();
    GradCam.Heatmap m = cam.map(uniform(0xC86432), 1); // the signal is everywhere
    assertEquals(S, m.heat().length);
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        assertEquals(y < 4 && x < 4 ? 1f : 0f, m.heat()[y][x], 1e-5, "(" + y + "," + x + ")");
      }
    }
    assertEquals(S, m.input().getWidth());
  }

  /** Graft's own head_pool, or a base's global pooling at its cut (ResNet50's avg_pool). */
  @ParameterizedTest
  @ValueSource(strings = {"head_pool", "avg_pool"})
  void aPooledHeadLightsWhereTheClassChannelFires(String pool) {
    ComputationGraph net =
        init(
            imageToConv(conv(), 2)
                .addLayer(pool, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .addLayer("head_output", softmax(2), pool));
    copyRedGreen(net);
    INDArray w = net.getLayer("head_output").getParam("W").assign(0);
    w.putScalar(new long[] {0, 1}, 1.0); // red speaks for class 1
    w.putScalar(new long[] {1, 0}, 1.0); // green for class 0
    BufferedImage img = uniform(0x00FF00); // green background
    for (int y = 10; y < 14; y++) {
      for (int x = 11; x < 15; x++) {
        img.setRGB(x, y, 0xFF0000); // a red patch bottom right
      }
    }
    GradCam cam = GradCam.of(net, T).orElseThrow();
    float[][] red = cam.map(img, 1).heat();
    float[][] green = cam.map(img, 0).heat();
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        boolean patch = y >= 10 && y < 14 && x >= 11 && x < 15;
        assertEquals(patch ? 1f : 0f, red[y][x], 1e-5, "class 1 at (" + y + "," + x + ")");
        assertEquals(patch ? 0f : 1f, green[y][x], 1e-5, "class 0 at (" + y + "," + x + ")");
      }
    }
  }

  /** in -> conv (1x1, copies the image) -> [head_pool] -> hidden layers -> head_output. */
  static ComputationGraph withHiddenLayers(boolean pooled) {
    var gb = imageToConv(conv().weightInit(org.deeplearning4j.nn.weights.WeightInit.XAVIER), 3);
    String below = "conv";
    if (pooled) {
      gb.addLayer("head_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv");
      below = "head_pool";
    }
    gb.addLayer(
            "head_dense_1",
            new DenseLayer.Builder().nOut(6).activation(Activation.RELU).build(),
            below)
        .addLayer(
            "head_dense_2",
            new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build(),
            "head_dense_1")
        .addLayer("head_output", softmax(3), "head_dense_2");
    ComputationGraph net = init(gb);
    INDArray w = net.getLayer("conv").getParam("W").assign(0);
    for (int c = 0; c < 3; c++) {
      w.putScalar(new long[] {c, c, 0, 0}, 1);
    }
    net.getLayer("conv").getParam("b").assign(0);
    return net;
  }

  /**
   * The backward pass through the hidden layers is the network's own derivative: checked against
   * finite differences of DL4J's forward pass. The softmax hides the logits, but the difference of
   * two classes' log-probabilities is the difference of their logits.
   */
  @ParameterizedTest(name = "pooled={0}")
  @ValueSource(booleans = {true, false})
  void theGradientThroughHiddenLayersMatchesFiniteDifferences(boolean pooled) {
    ComputationGraph net = withHiddenLayers(pooled);
    GradCam cam = GradCam.of(net, T).orElseThrow();
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
    INDArray x =
        org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 3, S, S);
    var acts = net.feedForward(new INDArray[] {x}, false, false);
    int positions = S * S;
    double[][] g2 = cam.mapGradient(acts, 2, 3, positions);
    double[][] g0 = cam.mapGradient(acts, 0, 3, positions);
    double eps = 1e-2;
    int[][] probes = {{0, 0}, {1, 37}, {2, 200}, {1, 255}};
    for (int[] p : probes) {
      int ch = p[0];
      INDArray up = x.dup();
      INDArray down = x.dup();
      if (pooled) { // moving a whole channel by eps moves its pooled value by eps
        up.get(all(), point(ch), all(), all()).addi(eps);
        down.get(all(), point(ch), all(), all()).subi(eps);
      } else {
        int y = p[1] / S;
        int xx = p[1] % S;
        up.putScalar(new long[] {0, ch, y, xx}, x.getDouble(0, ch, y, xx) + eps);
        down.putScalar(new long[] {0, ch, y, xx}, x.getDouble(0, ch, y, xx) - eps);
      }
      double numeric = (logitGap(net, up) - logitGap(net, down)) / (2 * eps);
      int col = pooled ? 0 : p[1];
      double analytic = g2[ch][col] - g0[ch][col];
      assertEquals(analytic, numeric, 2e-3 + 1e-2 * Math.abs(analytic), "channel " + ch);
    }
    assertTrue(
        java.util.Arrays.stream(g2).flatMapToDouble(java.util.Arrays::stream).anyMatch(v -> v != 0),
        "a gradient at all");
  }

  private static double logitGap(ComputationGraph net, INDArray x) {
    INDArray p = net.outputSingle(x);
    return Math.log(p.getDouble(0, 2)) - Math.log(p.getDouble(0, 0));
  }

  private static org.nd4j.linalg.indexing.INDArrayIndex all() {
    return org.nd4j.linalg.indexing.NDArrayIndex.all();
  }

  private static org.nd4j.linalg.indexing.INDArrayIndex point(int i) {
    return org.nd4j.linalg.indexing.NDArrayIndex.point(i);
  }

  @Test
  void aHiddenReluLayerPassesTheRedPatchThrough() {
    ComputationGraph net =
        init(
            imageToConv(conv(), 2)
                .addLayer(
                    "head_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .addLayer(
                    "head_dense_1",
                    new DenseLayer.Builder().nOut(2).activation(Activation.RELU).build(),
                    "head_pool")
                .addLayer("head_output", softmax(2), "head_dense_1"));
    copyRedGreen(net);
    net.getLayer("head_dense_1").getParam("W").assign(org.nd4j.linalg.factory.Nd4j.eye(2));
    net.getLayer("head_dense_1").getParam("b").assign(0);
    INDArray w = net.getLayer("head_output").getParam("W").assign(0);
    w.putScalar(new long[] {0, 1}, 1.0); // red speaks for class 1
    w.putScalar(new long[] {1, 0}, 1.0); // green for class 0
    BufferedImage img = uniform(0x00FF00);
    for (int y = 2; y < 6; y++) {
      for (int x = 3; x < 7; x++) {
        img.setRGB(x, y, 0xFF0000); // a red patch top left
      }
    }
    float[][] red = GradCam.of(net, T).orElseThrow().map(img, 1).heat();
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        boolean patch = y >= 2 && y < 6 && x >= 3 && x < 7;
        assertEquals(patch ? 1f : 0f, red[y][x], 1e-5, "class 1 at (" + y + "," + x + ")");
      }
    }
  }

  /**
   * Between the map and the output only pooling and dense layers are followed; anything else (here
   * a BatchNorm on the pooled vector) leaves no map to explain.
   */
  @Test
  void aHeadWithAnotherKindOfLayerIsNotCovered() {
    ComputationGraph net =
        init(
            imageToConv(conv(), 2)
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .addLayer(
                    "bn",
                    new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build(),
                    "pool")
                .addLayer("head_output", softmax(2), "bn"));
    assertTrue(GradCam.of(net, T).isEmpty());
  }
}
