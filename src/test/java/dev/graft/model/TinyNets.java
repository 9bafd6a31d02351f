package dev.graft.model;

import dev.graft.base.Preprocessing;
import dev.graft.data.ResizeMode;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small real networks and model descriptions for tests. */
public final class TinyNets {
  private TinyNets() {}

  /** A tiny CNN classifier: [N,3,size,size] → softmax [N,classes], randomly initialised. */
  public static ComputationGraph classifier(int size, int classes, long seed) {
    ComputationGraphConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .updater(new Adam(1e-3))
            .weightInit(WeightInit.XAVIER)
            .graphBuilder()
            .addInputs("input")
            .setInputTypes(InputType.convolutional(size, size, 3))
            .addLayer(
                "conv1",
                new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.RELU).build(),
                "input")
            .addLayer(
                "pool1",
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                "conv1")
            .addLayer(
                "conv2",
                new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.RELU).build(),
                "pool1")
            .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv2")
            .addLayer(
                "fc", new DenseLayer.Builder().nOut(16).activation(Activation.RELU).build(), "gap")
            .addLayer(
                "out",
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nOut(classes)
                    .activation(Activation.SOFTMAX)
                    .build(),
                "fc")
            .setOutputs("out")
            .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    return g;
  }

  /** An untrained model over {@code labels}: {@link #classifier} at 28 px with {@link #info}. */
  public static TransferModel model(List<String> labels) {
    return new TransferModel(classifier(28, labels.size(), 3), info(labels, 28));
  }

  /** A model description with a two-epoch history and a few settings. */
  public static ModelInfo info(List<String> labels, int size) {
    History h = new History();
    h.add(new EpochRecord(1, 1.2, 0.5, 1.1, 0.55, 1e-3, 0.4));
    h.add(new EpochRecord(2, 0.8, 0.7, 0.9, 0.65, 1e-3, 0.3));
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("epochs", "2");
    settings.put("seed", "42");
    return new ModelInfo(
        GraftVersion.current(),
        "tiny-cnn",
        "none:seed=7",
        labels,
        Preprocessing.unit(),
        size,
        ResizeMode.STRETCH,
        "frozen",
        settings,
        Map.of("validationAccuracy", 0.65),
        h,
        1_700_000_000_000L);
  }

  /**
   * A base of {@link #classifier}{@code (28, 5, 1)} cut at {@code fc}, 28 px, unit preprocessing,
   * seed 1: the tiny real base of the training and compatibility tests.
   */
  public static dev.graft.base.Base base() throws java.io.IOException {
    return dev.graft.base.Bases.fromGraph("tiny", classifier(28, 5, 1))
        .cut("fc")
        .inputSize(28)
        .preprocessing(dev.graft.base.Preprocessing.unit())
        .seed(1)
        .load();
  }

  /** A featurizer cache key (center crop) for tests of the cache itself. */
  public static dev.graft.features.FeatureKey pooledKey(
      String id, String weights, dev.graft.base.Preprocessing p, int size, String cut) {
    return dev.graft.features.FeatureKey.pooled(
        new dev.graft.features.FeatureKey.Input(
            id, weights, p, size, dev.graft.data.ResizeMode.CENTER_CROP),
        cut,
        "00");
  }

  /**
   * A cache key's input side for tests: base {@code id}, unit preprocessing, 28 px, center crop.
   */
  public static dev.graft.features.FeatureKey.Input cacheInput(String id) {
    return new dev.graft.features.FeatureKey.Input(
        id,
        "test-weights",
        dev.graft.base.Preprocessing.unit(),
        28,
        dev.graft.data.ResizeMode.CENTER_CROP);
  }

  /** Copies the 20-per-class test digits of {@code digits} from the classpath into {@code dir}. */
  public static Path digits(Path dir, List<String> digits, int perClass) throws Exception {
    return digits(dir, digits, 0, perClass);
  }

  /** Copies test digits {@code [from, from + perClass)} (at most index 19) of each class. */
  public static Path digits(Path dir, List<String> digits, int from, int perClass)
      throws Exception {
    for (String d : digits) {
      Path cls = Files.createDirectories(dir.resolve(d));
      for (int i = from; i < from + perClass; i++) {
        String name = String.format("%04d.png", i);
        try (var in = TinyNets.class.getResourceAsStream("/mnist/" + d + "/" + name)) {
          Files.copy(in, cls.resolve(name));
        }
      }
    }
    return dir;
  }
}
