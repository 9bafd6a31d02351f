package dev.graft.demo;

import dev.graft.Graft;
import dev.graft.TransferBuilder;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.data.ImageBatches;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import dev.graft.head.Head;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The transfer experiment of Keras's {@code mnist_transfer_cnn} example, on the bundled digits: a
 * small CNN is trained on digits 0–4 (the "pretrained base"), then a classifier for digits 5–9 is
 * trained from only a few labelled images per class, with each of Graft's three strategies on that
 * base and, as the baseline, the same network trained from scratch. Every run is scored on the same
 * held-out digits, never seen in training or validation.
 *
 * <pre>{@code
 * MnistTransferDemo.Result r = new MnistTransferDemo(MnistTransferDemo.Config.defaults(), work, progress).run();
 * r.runs().forEach(run -> System.out.println(run.strategy() + " " + run.accuracy()));
 * }</pre>
 *
 * <p>The network: conv 5×5×8 → max-pool 2 → conv 3×3×16 → max-pool 2 → dense 64 → softmax. The
 * frozen and fine-tune runs cut the base after the second pooling layer and put a new {@code
 * flatten → dense 64 → dropout 0.5} head on it (as Keras's example freezes the convolutions and
 * retrains the dense layers); feature extraction computes the flattened 400 features at that cut
 * once and trains softmax regression on them; the baseline trains the frozen run's network with
 * every layer trainable from a random initialisation.
 *
 * <p>Why one class of this size: the experiment reads top to bottom as one script (data,
 * pretraining, the four runs, scoring), which is what a reader of the demo wants.
 */
public final class MnistTransferDemo {
  /** Digits the base is pretrained on. */
  public static final List<Integer> SOURCE = List.of(0, 1, 2, 3, 4);

  /** Digits the transfer targets. */
  public static final List<Integer> TARGET = List.of(5, 6, 7, 8, 9);

  /** Input side in pixels. */
  public static final int SIZE = 28;

  /** The cut for the frozen, fine-tune and scratch runs. */
  public static final String CONV_CUT = "pool2";

  /** All the runs, in table order. */
  public static final List<String> STRATEGIES =
      List.of("frozen", "finetune", "features", "scratch");

  /**
   * What to run.
   *
   * @param labelsPerClass the few-label regimes to compare, e.g. 10 and 100 images per class
   * @param pretrainPerClass images per source digit for pretraining
   * @param pretrainEpochs pretraining epochs
   * @param validationPerClass validation images per target digit (learning curves, best epoch)
   * @param testPerClass held-out test images per target digit
   * @param seed seed for sampling, initialisation and shuffling
   * @param strategies which of {@link #STRATEGIES} to run
   * @param epochs epochs of every transfer run, or 0 for {@link #epochsFor(int) by label count}
   */
  public record Config(
      List<Integer> labelsPerClass,
      int pretrainPerClass,
      int pretrainEpochs,
      int validationPerClass,
      int testPerClass,
      long seed,
      List<String> strategies,
      int epochs) {
    /** Validates the numbers. */
    public Config {
      labelsPerClass = List.copyOf(labelsPerClass);
      strategies = List.copyOf(strategies);
      if (strategies.isEmpty() || !STRATEGIES.containsAll(strategies)) {
        throw new GraftException("strategies must be among " + STRATEGIES + ", got " + strategies);
      }
      if (labelsPerClass.isEmpty() || labelsPerClass.stream().anyMatch(n -> n < 1 || n > 400)) {
        throw new GraftException("labels per class must be 1..400, got " + labelsPerClass);
      }
      if (pretrainPerClass < 10
          || pretrainPerClass > 900
          || pretrainEpochs < 1
          || validationPerClass < 1
          || testPerClass < 1
          || validationPerClass + testPerClass > 440
          || epochs < 0) {
        throw new GraftException(
            "bad demo sizes: pretrain "
                + pretrainPerClass
                + "x"
                + pretrainEpochs
                + ", validation "
                + validationPerClass
                + ", test "
                + testPerClass
                + ", epochs "
                + epochs);
      }
    }

    /** 10 and 100 labels per class; 300 pretraining digits per class, 3 epochs; 50/200 val/test. */
    public static Config defaults() {
      return new Config(List.of(10, 100), 300, 3, 30, 200, 42, STRATEGIES, 0);
    }

    /** Epochs for a run with {@code n} labels per class: more passes over fewer images. */
    public int epochsFor(int n) {
      if (epochs > 0) {
        return epochs;
      }
      return n <= 20 ? 30 : n <= 50 ? 20 : 12;
    }
  }

  /**
   * One trained and scored model.
   *
   * @param strategy {@code frozen}, {@code finetune}, {@code features} or {@code scratch}
   * @param labelsPerClass training images per class
   * @param accuracy held-out test accuracy
   * @param seconds wall-clock seconds of training (test scoring excluded)
   * @param model the trained model
   * @param test the held-out evaluation
   */
  public record Run(
      String strategy,
      int labelsPerClass,
      double accuracy,
      double seconds,
      TransferModel model,
      ClassificationReport test) {}

  /**
   * Everything the demo measured.
   *
   * @param pretrainHistory pretraining epochs (training loss/accuracy, source-digit validation)
   * @param pretrainSeconds pretraining wall-clock seconds
   * @param runs the transfer and baseline runs, in order
   * @param config what was run
   */
  public record Result(
      History pretrainHistory, double pretrainSeconds, List<Run> runs, Config config) {}

  /** Progress callbacks (on the calling thread). */
  public interface Progress {
    /** A stage of {@code epochs} epochs starts. */
    default void stageStart(String name, int epochs) {}

    /** An epoch of the current stage ended. */
    default void epoch(EpochRecord record) {}

    /** The current stage ended. */
    default void stageEnd(String name, double seconds) {}
  }

  private final Config config;
  private final Path work;
  private final Progress progress;

  /**
   * @param config what to run
   * @param work a directory for the extracted digits (created)
   * @param progress progress callbacks
   */
  public MnistTransferDemo(Config config, Path work, Progress progress) {
    this.config = config;
    this.work = work;
    this.progress = progress == null ? new Progress() {} : progress;
  }

  /** Runs the whole experiment. */
  public Result run() throws IOException {
    DemoData digits = DemoData.load();
    int maxLabels =
        config.labelsPerClass().stream().mapToInt(Integer::intValue).max().orElseThrow();
    int valFrom = maxLabels;
    int testFrom = 440;
    digits.extract(work.resolve("source-train"), SOURCE, 0, config.pretrainPerClass());
    digits.extract(work.resolve("source-val"), SOURCE, 900, 80);
    digits.extract(work.resolve("target-pool"), TARGET, 0, maxLabels);
    digits.extract(work.resolve("target-val"), TARGET, valFrom, config.validationPerClass());
    digits.extract(work.resolve("target-test"), TARGET, testFrom, config.testPerClass());
    ImageDataset pool = ImageFolder.of(work.resolve("target-pool"));
    ImageDataset val = ImageFolder.of(work.resolve("target-val"));
    ImageDataset test = ImageFolder.of(work.resolve("target-test"));

    long t0 = System.nanoTime();
    History pretrainHistory = new History();
    ComputationGraph pretrained =
        pretrain(
            ImageFolder.of(work.resolve("source-train")),
            ImageFolder.of(work.resolve("source-val")),
            pretrainHistory);
    double pretrainSeconds = (System.nanoTime() - t0) / 1e9;

    Base convBase =
        Bases.fromGraph("mnist-cnn-0to4", pretrained)
            .cut(CONV_CUT)
            .inputSize(SIZE)
            .preprocessing(Preprocessing.unit())
            .seed(config.seed())
            .load();
    // the features strategy's default solver (a softmax fitted to convergence, L2 chosen on the
    // validation digits); flattened rather than pooled because digits need to know where a
    // stroke is
    Head featureHead = Head.flatten().solver(Head.Solver.LBFGS);
    Head convHead = Head.flatten().dense(64).dropout(0.5);

    List<Run> runs = new ArrayList<>();
    for (int n : config.labelsPerClass()) {
      ImageDataset train = pool.perClass(n, config.seed());
      int epochs = config.epochsFor(n);
      if (config.strategies().contains("frozen")) {
        runs.add(
            fit(
                "frozen",
                n,
                Graft.base(convBase).head(convHead).strategy(Strategy.frozen()),
                epochs,
                train,
                val,
                test));
      }
      if (config.strategies().contains("finetune")) {
        runs.add(
            fit(
                "finetune",
                n,
                Graft.base(convBase)
                    .head(convHead)
                    .strategy(Strategy.fineTune().unfreezeLast(1).learningRate(3e-4)),
                epochs,
                train,
                val,
                test));
      }
      if (config.strategies().contains("features")) {
        runs.add(
            fit(
                "features",
                n,
                Graft.base(convBase).head(featureHead).strategy(Strategy.features()),
                epochs,
                train,
                val,
                test));
      }
      if (!config.strategies().contains("scratch")) {
        continue;
      }
      Base random =
          Bases.fromGraph("mnist-cnn-random", cnn(SOURCE.size(), config.seed() + 1))
              .cut(CONV_CUT)
              .inputSize(SIZE)
              .preprocessing(Preprocessing.unit())
              .seed(config.seed())
              .load();
      runs.add(
          fit(
              "scratch",
              n,
              Graft.base(random)
                  .head(convHead)
                  .strategy(
                      Strategy.fineTune()
                          .unfreezeLast(2)
                          .learningRate(1e-3)
                          .headLearningRateMultiplier(1)
                          .warmupEpochs(0)),
              epochs,
              train,
              val,
              test));
    }
    return new Result(pretrainHistory, pretrainSeconds, runs, config);
  }

  private Run fit(
      String name,
      int n,
      TransferBuilder builder,
      int epochs,
      ImageDataset train,
      ImageDataset val,
      ImageDataset test)
      throws IOException {
    String stage = name + ", " + n + "/class";
    progress.stageStart(stage, epochs);
    long t = System.nanoTime();
    TransferModel model =
        builder
            .epochs(epochs)
            .batchSize(32)
            .seed(config.seed())
            .resize(ResizeMode.STRETCH)
            .listener(
                new TrainingListener() {
                  @Override
                  public void onEpochEnd(EpochRecord record, History history) {
                    progress.epoch(record);
                  }
                })
            .fit(train, val);
    double seconds = (System.nanoTime() - t) / 1e9;
    progress.stageEnd(stage, seconds);
    ClassificationReport r = model.evaluate(test);
    return new Run(name, n, r.accuracy(), seconds, model, r);
  }

  /** Trains the base network on the source digits with plain DL4J. */
  private ComputationGraph pretrain(ImageDataset train, ImageDataset val, History history)
      throws IOException {
    ComputationGraph g = cnn(SOURCE.size(), config.seed());
    ImageTransform transform = new ImageTransform(SIZE, ResizeMode.STRETCH, Preprocessing.unit());
    progress.stageStart("pretraining on 0-4", config.pretrainEpochs());
    long start = System.nanoTime();
    Nd4j.getRandom().setSeed(config.seed());
    for (int e = 1; e <= config.pretrainEpochs(); e++) {
      long t = System.nanoTime();
      try (ImageBatches it =
          ImageBatches.builder(train, transform).batchSize(32).shuffle(config.seed() + e).build()) {
        g.fit(it);
      }
      double loss = g.score();
      double acc;
      try (ImageBatches it = ImageBatches.builder(val, transform).batchSize(100).build()) {
        acc = g.evaluate(it).accuracy();
      }
      EpochRecord r =
          new EpochRecord(
              e, loss, Double.NaN, Double.NaN, acc, 1e-3, (System.nanoTime() - t) / 1e9);
      history.add(r);
      progress.epoch(r);
    }
    progress.stageEnd("pretraining on 0-4", (System.nanoTime() - start) / 1e9);
    return g;
  }

  /** The demo network, randomly initialised: [N,3,28,28] → softmax [N, classes]. */
  public static ComputationGraph cnn(int classes, long seed) {
    ComputationGraphConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .updater(new Adam(1e-3))
            .weightInit(WeightInit.RELU)
            .graphBuilder()
            .addInputs("input")
            .setInputTypes(InputType.convolutional(SIZE, SIZE, 3))
            .addLayer(
                "conv1",
                new ConvolutionLayer.Builder(5, 5).nOut(8).activation(Activation.RELU).build(),
                "input")
            .addLayer(
                "pool1",
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                "conv1")
            .addLayer(
                "conv2",
                new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.RELU).build(),
                "pool1")
            .addLayer(
                "pool2",
                new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                "conv2")
            .addLayer(
                "fc",
                new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build(),
                "pool2")
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
}
