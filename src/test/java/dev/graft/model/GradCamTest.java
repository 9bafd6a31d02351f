package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Preprocessing;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import java.awt.image.BufferedImage;
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

  /** A 1x1 convolution that copies red to channel 0 and green to channel 1. */
  static NeuralNetConfiguration.Builder conv() {
    return new NeuralNetConfiguration.Builder().seed(1);
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
    var conf =
        conv()
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(S, S, 3))
            .addLayer(
                "conv",
                new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.IDENTITY).build(),
                "in")
            .addLayer(
                "head_output",
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nOut(2)
                    .activation(Activation.SOFTMAX)
                    .build(),
                "conv")
            .setOutputs("head_output")
            .build();
    ComputationGraph net = new ComputationGraph(conf);
    net.init();
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
    var conf =
        conv()
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(S, S, 3))
            .addLayer(
                "conv",
                new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.IDENTITY).build(),
                "in")
            .addLayer(pool, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
            .addLayer(
                "head_output",
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nOut(2)
                    .activation(Activation.SOFTMAX)
                    .build(),
                pool)
            .setOutputs("head_output")
            .build();
    ComputationGraph net = new ComputationGraph(conf);
    net.init();
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

  @Test
  void aHeadWithAHiddenLayerIsNotCovered() {
    var conf =
        conv()
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(S, S, 3))
            .addLayer("conv", new ConvolutionLayer.Builder(1, 1).nOut(2).build(), "in")
            .addLayer("head_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
            .addLayer("head_dense_1", new DenseLayer.Builder().nOut(4).build(), "head_pool")
            .addLayer(
                "head_output",
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nOut(2)
                    .activation(Activation.SOFTMAX)
                    .build(),
                "head_dense_1")
            .setOutputs("head_output")
            .build();
    ComputationGraph net = new ComputationGraph(conf);
    net.init();
    assertTrue(GradCam.of(net, T).isEmpty());
  }
}
