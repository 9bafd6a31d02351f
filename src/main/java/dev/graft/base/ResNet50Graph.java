package dev.graft.base;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * ResNet50 (v1) with deeplearning4j-zoo's layer names ({@code stem-cnn1}, {@code res2a_branch2a},
 * {@code bn2a_branch2a}, ..., {@code res5c_branch}) and Keras's geometry, ending in global average
 * pooling ({@code avg_pool}) over 2048 channels.
 *
 * <p>Two deliberate differences from the zoo's {@code ResNet50.init()}: stage 2 starts with stride
 * 1, as in Keras and in the published pretrained weights (the zoo's random-init graph uses stride 2
 * there, which halves every later feature map), and the head is a global average pooling instead of
 * the zoo's 3x3 max pooling named "avgpool".
 *
 * <p>The zoo's graph (and its pretrained file) pools the stem without padding; Keras (2.2 and
 * later) pads by one pixel first ({@code pool1_pad}). The Keras layout adds that padding, so that
 * Keras weights compute Keras's features; the zoo layout stays for the zoo's weights.
 */
final class ResNet50Graph {
  static final String POOL = "avg_pool";
  static final String LAST_ACTIVATION = "res5c_branch";

  private ResNet50Graph() {}

  /** Keras's name for the padding before the stem's max pooling (Keras layout only). */
  static final String POOL1_PAD = "pool1_pad";

  /**
   * The graph; with {@code keras} set, in Keras's layout: a 1-pixel {@link #POOL1_PAD} zero padding
   * before the stem's 3x3/2 max pooling (56x56 after it at 224 px, where the zoo's unpadded pooling
   * gives 55x55).
   */
  static ComputationGraphConfiguration build(
      String input, int inputSize, long seed, boolean keras) {
    GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .weightInit(WeightInit.RELU)
            .activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Truncate)
            .graphBuilder()
            .addInputs(input)
            .setInputTypes(InputType.convolutional(inputSize, inputSize, 3));
    g.addLayer("stem-zero", new ZeroPaddingLayer.Builder(3, 3).build(), input)
        .addLayer(
            "stem-cnn1",
            new ConvolutionLayer.Builder(new int[] {7, 7}, new int[] {2, 2}).nOut(64).build(),
            "stem-zero")
        .addLayer("stem-batch1", new BatchNormalization.Builder().build(), "stem-cnn1")
        .addLayer("stem-act1", relu(), "stem-batch1");
    String beforePool = "stem-act1";
    if (keras) {
      g.addLayer(POOL1_PAD, new ZeroPaddingLayer.Builder(1, 1).build(), beforePool);
      beforePool = POOL1_PAD;
    }
    g.addLayer(
        "stem-maxpool1",
        new SubsamplingLayer.Builder(
                SubsamplingLayer.PoolingType.MAX, new int[] {3, 3}, new int[] {2, 2})
            .build(),
        beforePool);
    String x = "stem-maxpool1";
    int[][] stages = {{64, 3}, {128, 4}, {256, 6}, {512, 3}};
    for (int s = 0; s < stages.length; s++) {
      int filters = stages[s][0];
      String stage = String.valueOf(s + 2);
      for (int u = 0; u < stages[s][1]; u++) {
        String unit = stage + (char) ('a' + u);
        int stride = u == 0 && s > 0 ? 2 : 1;
        x = residualUnit(g, unit, filters, u == 0, stride, x);
      }
    }
    g.addLayer(POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), LAST_ACTIVATION);
    g.setOutputs(POOL);
    return g.build();
  }

  /** One bottleneck unit; {@code projection} adds the 1x1 shortcut convolution (a conv block). */
  private static String residualUnit(
      GraphBuilder g, String unit, int filters, boolean projection, int stride, String input) {
    String conv = "res" + unit + "_branch";
    String bn = "bn" + unit + "_branch";
    String act = "act" + unit + "_branch";
    g.addLayer(
            conv + "2a",
            new ConvolutionLayer.Builder(new int[] {1, 1}, new int[] {stride, stride})
                .nOut(filters)
                .build(),
            input)
        .addLayer(bn + "2a", new BatchNormalization.Builder().build(), conv + "2a")
        .addLayer(act + "2a", relu(), bn + "2a")
        .addLayer(
            conv + "2b",
            new ConvolutionLayer.Builder(3, 3)
                .nOut(filters)
                .convolutionMode(ConvolutionMode.Same)
                .build(),
            act + "2a")
        .addLayer(bn + "2b", new BatchNormalization.Builder().build(), conv + "2b")
        .addLayer(act + "2b", relu(), bn + "2b")
        .addLayer(
            conv + "2c", new ConvolutionLayer.Builder(1, 1).nOut(4 * filters).build(), act + "2b")
        .addLayer(bn + "2c", new BatchNormalization.Builder().build(), conv + "2c");
    String shortcut = input;
    if (projection) {
      g.addLayer(
              conv + "1",
              new ConvolutionLayer.Builder(new int[] {1, 1}, new int[] {stride, stride})
                  .nOut(4 * filters)
                  .build(),
              input)
          .addLayer(bn + "1", new BatchNormalization.Builder().build(), conv + "1");
      shortcut = bn + "1";
    }
    g.addVertex(
            "short" + unit + "_branch",
            new ElementWiseVertex(ElementWiseVertex.Op.Add),
            bn + "2c",
            shortcut)
        .addLayer(conv, relu(), "short" + unit + "_branch");
    return conv;
  }

  private static ActivationLayer relu() {
    return new ActivationLayer.Builder().activation(Activation.RELU).build();
  }
}
