package dev.graft.testing;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A small CNN with BatchNorm for tests: conv1-bn1-relu1-pool1, conv2-bn2-relu2-pool2,
 * conv3-bn3-relu3 ("features", [N, 32, 7, 7] at 28 px), then GAP and a softmax "out".
 */
public final class SmallNets {
  private SmallNets() {}

  /** Ordered blocks: block1 (conv1, bn1), block2 (conv2, bn2), block3 (conv3, bn3). */
  public static java.util.List<dev.graft.base.Block> blocks() {
    return java.util.List.of(
        new dev.graft.base.Block("block1", java.util.List.of("conv1", "bn1", "relu1", "pool1")),
        new dev.graft.base.Block("block2", java.util.List.of("conv2", "bn2", "relu2", "pool2")),
        new dev.graft.base.Block("block3", java.util.List.of("conv3", "bn3", "relu3")));
  }

  /**
   * {@link #pretrainedOnLowDigits()} as a Graft base, id {@code digits0-4}, cut at {@code relu3}
   * (28 px): the base most transfer tests train on.
   */
  public static dev.graft.base.Base pretrainedBase() throws java.io.IOException {
    return dev.graft.base.Bases.fromGraph("digits0-4", pretrainedOnLowDigits())
        .inputSize(28)
        .cut("relu3")
        .load();
  }

  /**
   * {@link #pretrainedOnLowDigits()} cut at {@code relu3} (28 px, {@link #blocks()}) with {@code
   * head} for {@code strategy}: the assembled graph most strategy and training tests start from.
   */
  public static dev.graft.strategy.TransferGraph transferGraph(
      dev.graft.head.Head head,
      dev.graft.strategy.Strategy strategy,
      dev.graft.strategy.GraphOptions options) {
    return dev.graft.strategy.TransferGraph.assemble(
        pretrainedOnLowDigits(), 28, "relu3", blocks(), head, strategy, options);
  }

  /** The untrained network for {@code classes} outputs on 3 x size x size images. */
  public static ComputationGraph cnn(int classes, int size, long seed) {
    ComputationGraphConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .updater(new Adam(2e-3))
            .weightInit(WeightInit.RELU)
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs("input")
            .addLayer(
                "conv1",
                new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.IDENTITY).build(),
                "input")
            .addLayer("bn1", new BatchNormalization.Builder().build(), "conv1")
            .addLayer(
                "relu1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn1")
            .addLayer(
                "pool1",
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                "relu1")
            .addLayer(
                "conv2",
                new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.IDENTITY).build(),
                "pool1")
            .addLayer("bn2", new BatchNormalization.Builder().build(), "conv2")
            .addLayer(
                "relu2", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn2")
            .addLayer(
                "pool2",
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                "relu2")
            .addLayer(
                "conv3",
                new ConvolutionLayer.Builder(3, 3).nOut(32).activation(Activation.IDENTITY).build(),
                "pool2")
            .addLayer("bn3", new BatchNormalization.Builder().build(), "conv3")
            .addLayer(
                "relu3", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn3")
            .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "relu3")
            .addLayer(
                "out",
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nOut(classes)
                    .activation(Activation.SOFTMAX)
                    .build(),
                "gap")
            .setOutputs("out")
            .setInputTypes(InputType.convolutional(size, size, 3))
            .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    return g;
  }

  private static ComputationGraph pretrained;

  /**
   * The small CNN trained on digits 0-4 (100 per class, 3 epochs, 28 px): a base that knows pen
   * strokes but has never seen 5-9. Built once per JVM; callers must not modify it.
   */
  public static synchronized ComputationGraph pretrainedOnLowDigits() {
    if (pretrained == null) {
      Nd4j.getRandom().setSeed(7);
      ComputationGraph g = cnn(5, 28, 7);
      DataSet ds = Digits.tensors(Digits.LOW, 0, 100, 28);
      var it = Digits.iterator(ds, 32);
      for (int e = 0; e < 3; e++) {
        it.reset();
        g.fit(it);
      }
      pretrained = g;
    }
    return pretrained;
  }
}
