package dev.graft;

import dev.graft.base.Base;
import dev.graft.base.Preprocessing;
import dev.graft.data.Augmentation;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import dev.graft.features.FeatureKey;
import dev.graft.head.Head;
import dev.graft.metrics.Monitor;
import dev.graft.model.GraftVersion;
import dev.graft.strategy.GraphOptions;
import dev.graft.strategy.Strategy;
import dev.graft.train.TrainingResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One training run, described once and validated once: which base (and weights, cut, input size),
 * its preprocessing and resize, the head, the strategy and its options, the data and the seed.
 * {@link TransferBuilder#fit} builds it from its settings; everything that records or identifies a
 * run comes from it: the model file's settings ({@link #recorded}, read back typed as {@link
 * dev.graft.model.Provenance}), the checkpoint's fingerprint ({@link #fingerprint()}), the
 * activation caches' key ({@link #cacheInput()}), the graph options and the image transform.
 *
 * <p>Each rule about a run is written once: the ranges of the numbers in {@link Ranges} (called by
 * {@link Training}'s constructor), and what a logistic-regression head needs in {@link
 * Strategy#checkHead} (called by this record's constructor).
 *
 * @param base the base's identity
 * @param preprocessing the base's pixel preprocessing, as a whole
 * @param resize how images are brought to the input size
 * @param head the head, resolved (never "the default")
 * @param strategy the strategy
 * @param training the optimisation settings
 * @param data the classes and where the images came from
 * @param seed the seed for initialisation, shuffling, dropout and augmentation
 */
public record RunSpec(
    BaseIdentity base,
    Preprocessing preprocessing,
    ResizeMode resize,
    Head head,
    Strategy strategy,
    Training training,
    Data data,
    long seed) {

  /** Validates: each component's own rules, then the head against strategy and caching. */
  public RunSpec {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(preprocessing, "preprocessing");
    Objects.requireNonNull(resize, "resize");
    Objects.requireNonNull(head, "head");
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(data, "data");
    strategy.checkHead(head.solver(), training.cacheActivations());
    if (training.classWeights() != null && training.classWeights().length != data.labels().size()) {
      throw new GraftException(
          "got "
              + training.classWeights().length
              + " class weights for "
              + data.labels().size()
              + " classes");
    }
  }

  /**
   * What identifies a base, without holding its network.
   *
   * @param id the base's id, e.g. {@code "resnet50"} or a file name
   * @param weightsKey the weights' provenance key
   * @param weightsSha256 the SHA-256 of the weights file, when known
   * @param cut the layer the head reads
   * @param inputSize the square input side in pixels
   */
  public record BaseIdentity(
      String id, String weightsKey, Optional<String> weightsSha256, String cut, int inputSize) {
    /** The identity of {@code base}. */
    public static BaseIdentity of(Base base) {
      return new BaseIdentity(
          base.id(),
          base.weightsKey(),
          base.weightsSha256(),
          base.featureLayer(),
          base.inputSize());
    }
  }

  /**
   * How the trainable weights are optimised.
   *
   * @param epochs epochs in all
   * @param batchSize minibatch size
   * @param learningRate the strategy's main rate, or NaN for the strategy's own
   * @param patience early-stopping patience (0: never)
   * @param monitor what decides the best epoch
   * @param classWeights per-class loss weights in label order, or null for none
   * @param weightDecay decoupled weight decay
   * @param augmentation training augmentation, as applied (none where the strategy ignores it)
   * @param cacheActivations whether frozen activations are cached (never with augmentation)
   */
  public record Training(
      int epochs,
      int batchSize,
      double learningRate,
      int patience,
      Monitor monitor,
      double[] classWeights,
      double weightDecay,
      Augmentation augmentation,
      boolean cacheActivations) {
    /** Validates through {@link Ranges} and copies. */
    public Training {
      Ranges.epochs(epochs);
      Ranges.batchSize(batchSize);
      if (!Double.isNaN(learningRate)) { // NaN: the strategy's own
        Ranges.learningRate(learningRate);
      }
      Ranges.patience(patience);
      Ranges.weightDecay(weightDecay);
      Objects.requireNonNull(monitor, "monitor");
      Objects.requireNonNull(augmentation, "augmentation");
      if (cacheActivations && augmentation.enabled()) {
        throw new GraftException("augmented images cannot be cached: turn caching off");
      }
      classWeights = classWeights == null ? null : classWeights.clone();
    }

    @Override
    public double[] classWeights() {
      return classWeights == null ? null : classWeights.clone();
    }
  }

  /**
   * The classes and the images, in words.
   *
   * @param labels class names, in label order
   * @param training where the training images came from and how many ("" when not recorded:
   *     training from iterators)
   * @param validation the same for the validation images ("none" without any; "" when not recorded)
   */
  public record Data(List<String> labels, String training, String validation) {
    /** Copies. */
    public Data {
      labels = List.copyOf(labels);
      training = training == null ? "" : training;
      validation = validation == null ? "" : validation;
    }
  }

  /** Whether the head is fitted to convergence (L-BFGS) rather than trained for epochs. */
  public boolean convexHead() {
    return head.solver() == Head.Solver.LBFGS;
  }

  /** The options the graph is assembled with. */
  public GraphOptions graphOptions() {
    return new GraphOptions(
        data.labels().size(),
        training.classWeights(),
        training.weightDecay(),
        seed,
        training.epochs(),
        training.learningRate());
  }

  /** How a decoded image becomes the network's input. */
  public ImageTransform transform() {
    return new ImageTransform(base.inputSize(), resize, preprocessing);
  }

  /** The input side of the activation caches' key ({@link FeatureKey}). */
  public FeatureKey.Input cacheInput() {
    return new FeatureKey.Input(
        base.id(), base.weightsKey(), preprocessing, base.inputSize(), resize);
  }

  /** The strategy in words; with a head fitted by L-BFGS, no learning rate is claimed. */
  public String describeStrategy() {
    if (convexHead()) {
      return strategy.describeWithoutRate();
    }
    return (Double.isNaN(training.learningRate())
            ? strategy
            : strategy.withLearningRate(training.learningRate()))
        .describe();
  }

  /**
   * The settings the result depends on, in words, in the model file's order.
   *
   * @param unfrozen base layers that train (empty: none, or not known yet)
   */
  public Map<String, String> settings(List<String> unfrozen) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("strategy", describeStrategy());
    s.put("head", head.describe());
    s.put("cut", base.cut());
    base.weightsSha256().ifPresent(sha -> s.put("weightsSha256", sha));
    if (!unfrozen.isEmpty()) {
      s.put("unfrozen", String.join(",", unfrozen));
    }
    if (convexHead()) {
      s.put("epochs", "none (the head is fitted to convergence)");
    } else {
      s.put("epochs", Integer.toString(training.epochs()));
      s.put("batchSize", Integer.toString(training.batchSize()));
      s.put(
          "learningRate",
          Double.toString(
              Double.isNaN(training.learningRate())
                  ? strategy.learningRate()
                  : training.learningRate()));
      s.put("earlyStopping", Integer.toString(training.patience()));
    }
    s.put("monitor", training.monitor().name());
    s.put("seed", Long.toString(seed));
    double[] w = training.classWeights();
    s.put("classWeights", w == null ? "none" : Arrays.toString(w));
    s.put("weightDecay", Double.toString(training.weightDecay()));
    s.put("augmentation", training.augmentation().describe());
    s.put("cachedActivations", Boolean.toString(training.cacheActivations()));
    if (!data.training().isEmpty()) {
      s.put("data", data.training());
    }
    if (!data.validation().isEmpty()) {
      s.put("validation", data.validation());
    }
    return s;
  }

  /**
   * What a checkpoint must agree on to be resumed: Graft's version, the base, its weights and
   * input, then {@link #settings} (written by earlier releases in the same words, so their
   * checkpoints still resume).
   */
  public Map<String, String> fingerprint() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("graftVersion", GraftVersion.current());
    m.put("base", base.id());
    m.put("weights", base.weightsKey());
    m.put("preprocessing", preprocessing.keyName());
    m.put("inputSize", Integer.toString(base.inputSize()));
    m.put("resize", resize.name());
    m.putAll(settings(List.of()));
    return m;
  }

  /**
   * The settings a trained model records: {@link #settings}, then what the run chose and how it
   * ended. {@code ModelInfo.provenance()} reads them back typed.
   *
   * @param unfrozen base layers that trained
   * @param result the training result
   * @param seconds wall-clock seconds the run took
   */
  public Map<String, String> recorded(
      List<String> unfrozen, TrainingResult result, double seconds) {
    Map<String, String> s = settings(unfrozen);
    s.putAll(result.notes()); // what the run chose itself: a logistic regression's L2
    s.put("restoredEpoch", Integer.toString(result.restoredEpoch()));
    s.put("stoppedEarly", Boolean.toString(result.stoppedEarly()));
    s.put("resumedFromEpoch", Integer.toString(result.resumedFromEpoch()));
    s.put("trainingSeconds", String.format(Locale.ROOT, "%.1f", seconds));
    return s;
  }
}
