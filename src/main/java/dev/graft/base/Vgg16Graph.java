package dev.graft.base;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * VGG16 as in deeplearning4j-zoo's {@code VGG16} (13 3x3 convolutions in 5 blocks, max pooling
 * after each), with Keras's layer names ({@code block1_conv1} ... {@code block5_pool}, {@code fc1},
 * {@code fc2}), which are also the names in DL4J's pretrained ImageNet file. Without the dense top
 * unless asked; never with the 1000-way classifier.
 */
final class Vgg16Graph {
  static final int[] CONVS_PER_BLOCK = {2, 2, 3, 3, 3};
  static final int[] FILTERS = {64, 128, 256, 512, 512};
  static final int DENSE_UNITS = 4096;

  private Vgg16Graph() {}

  static ComputationGraphConfiguration build(String input, int inputSize, long seed, boolean top) {
    GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .weightInit(WeightInit.RELU)
            .activation(Activation.RELU)
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs(input)
            .setInputTypes(InputType.convolutional(inputSize, inputSize, 3));
    String previous = input;
    for (int b = 1; b <= CONVS_PER_BLOCK.length; b++) {
      for (int c = 1; c <= CONVS_PER_BLOCK[b - 1]; c++) {
        String name = "block" + b + "_conv" + c;
        g.addLayer(
            name,
            new ConvolutionLayer.Builder(3, 3).stride(1, 1).nOut(FILTERS[b - 1]).build(),
            previous);
        previous = name;
      }
      String pool = "block" + b + "_pool";
      g.addLayer(
          pool,
          new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
              .kernelSize(2, 2)
              .stride(2, 2)
              .convolutionMode(ConvolutionMode.Truncate)
              .build(),
          previous);
      previous = pool;
    }
    if (top) {
      g.addLayer("fc1", new DenseLayer.Builder().nOut(DENSE_UNITS).build(), previous);
      g.addLayer("fc2", new DenseLayer.Builder().nOut(DENSE_UNITS).build(), "fc1");
      previous = "fc2";
    }
    g.setOutputs(previous);
    return g.build();
  }
}
