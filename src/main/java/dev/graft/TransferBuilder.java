package dev.graft;

import dev.graft.base.Base;
import dev.graft.data.Augmentation;
import dev.graft.data.ImageBatches;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import dev.graft.head.Head;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.Monitor;
import dev.graft.model.ModelInfo;
import dev.graft.model.TransferModel;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.FineTune;
import dev.graft.strategy.Strategy;
import dev.graft.strategy.TransferGraph;
import dev.graft.train.Checkpointing;
import dev.graft.train.ClassWeights;
import dev.graft.train.Fingerprint;
import dev.graft.train.LearningRateFinder;
import dev.graft.train.StopSignal;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingConfig;
import dev.graft.train.TrainingListener;
import dev.graft.train.TrainingResult;
import dev.graft.train.TrainingWarnings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Configures and runs one transfer-learning job; start it with {@link Graft#base(Base)}. Every
 * setting has a default, so {@code Graft.base(base).fit(train, validation)} works.
 *
 * <p>Defaults: {@link Strategy#frozen()} with the base's default head ({@link Base#defaultHead()})
 * trained by Adam; for {@link Strategy#features()} with no head given, {@link
 * Head#logisticRegression()} (a softmax fitted to convergence on the cached base output, L2 by
 * cross-validation); 10 epochs, batch 32, the strategy's learning rate, no early stopping (the best
 * epoch is still kept when there is validation data), monitor validation loss, seed 42, no class
 * weights, no weight decay, no augmentation, center crop.
 *
 * <p>Not thread-safe; one builder can run {@code fit} several times.
 *
 * <p>Why one class of this size: it is the library's one entry point for training, and most of it
 * is one documented setter per setting; {@code fit} only assembles, delegates to {@link Trainer}
 * and records provenance.
 */
public final class TransferBuilder {
  private static final Logger log = LoggerFactory.getLogger(TransferBuilder.class);

  private final Base base;
  private Head head;
  private Strategy strategy = Strategy.frozen();
  private int epochs = 10;
  private int batchSize = 32;
  private double learningRate = Double.NaN;
  private int patience;
  private Monitor monitor = Monitor.VALIDATION_LOSS;
  private long seed = 42;
  private ClassWeights classWeights = ClassWeights.none();
  private double weightDecay;
  private Augmentation augmentation = Augmentation.none();
  private ResizeMode resize = ResizeMode.CENTER_CROP;
  private final List<TrainingListener> listeners = new ArrayList<>();
  private ActivationCache.Factory cacheFactory = ActivationCache.inMemory();
  private boolean cacheActivations = true;
  private Path checkpoint;
  private boolean resume;
  private StopSignal stop;

  TransferBuilder(Base base) {
    this.base = Objects.requireNonNull(base, "base");
  }

  /**
   * The head on top of the base (default: {@link Head#logisticRegression()} for {@link
   * Strategy#features()}, else {@link Base#defaultHead()}, trained by Adam).
   */
  public TransferBuilder head(Head head) {
    this.head = Objects.requireNonNull(head, "head");
    return this;
  }

  /** The strategy (default: {@link Strategy#frozen()}). */
  public TransferBuilder strategy(Strategy strategy) {
    this.strategy = Objects.requireNonNull(strategy, "strategy");
    return this;
  }

  /**
   * Training epochs in all (default 10). For fine-tuning the strategy's head-only warm-up epochs
   * count within them: {@code .epochs(8)} with two warm-up epochs runs 2 + 6.
   */
  public TransferBuilder epochs(int epochs) {
    this.epochs = Ranges.epochs(epochs);
    return this;
  }

  /** Minibatch size (default 32). */
  public TransferBuilder batchSize(int batchSize) {
    this.batchSize = Ranges.batchSize(batchSize);
    return this;
  }

  /**
   * Overrides the strategy's main learning rate: the head's for frozen and features, the base's for
   * fine-tuning (the head then learns {@link FineTune#headLearningRateMultiplier} times faster).
   */
  public TransferBuilder learningRate(double lr) {
    this.learningRate = Ranges.learningRate(lr);
    return this;
  }

  /** Stops after {@code patience} epochs without improvement of the monitor (0: never). */
  public TransferBuilder earlyStopping(int patience) {
    this.patience = Ranges.patience(patience);
    return this;
  }

  /** What decides the best epoch (default validation loss). */
  public TransferBuilder monitor(Monitor monitor) {
    this.monitor = Objects.requireNonNull(monitor, "monitor");
    return this;
  }

  /** Seed for initialisation, shuffling, dropout and augmentation (default 42). */
  public TransferBuilder seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** Per-class loss weights: {@link ClassWeights#balanced()} for imbalanced data (default none). */
  public TransferBuilder classWeights(ClassWeights weights) {
    this.classWeights = Objects.requireNonNull(weights, "weights");
    return this;
  }

  /** Explicit per-class loss weights, in label order. */
  public TransferBuilder classWeights(double... weights) {
    return classWeights(ClassWeights.of(weights));
  }

  /** Decoupled weight decay of the trainable weights (default 0). */
  public TransferBuilder weightDecay(double wd) {
    this.weightDecay = Ranges.weightDecay(wd);
    return this;
  }

  /**
   * Training-time augmentation (default none). With augmentation on, frozen activations cannot be
   * cached, so every epoch runs the whole network; feature extraction ignores it.
   */
  public TransferBuilder augmentation(Augmentation augmentation) {
    this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
    return this;
  }

  /** How images are brought to the base's input size (default center crop). */
  public TransferBuilder resize(ResizeMode resize) {
    this.resize = Objects.requireNonNull(resize, "resize");
    return this;
  }

  /** Adds a training callback. */
  public TransferBuilder listener(TrainingListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /** Where cached frozen activations live (default: in memory). */
  public TransferBuilder activationCache(ActivationCache.Factory factory) {
    this.cacheFactory = Objects.requireNonNull(factory, "factory");
    return this;
  }

  /**
   * Whether frozen activations may be computed once and reused (default true; always off with
   * augmentation). Turn off for {@link #fit(DataSetIterator, DataSetIterator, List)} with an
   * iterator that augments.
   */
  public TransferBuilder cacheActivations(boolean on) {
    this.cacheActivations = on;
    return this;
  }

  /**
   * Keeps a checkpoint in {@code file}, replaced atomically at the end of every epoch, holding
   * everything the rest of the run depends on (default: none). With {@link #resume(boolean)}, a
   * later {@code fit} with the same settings and data continues from it. {@code fit} leaves the
   * file in place; delete it once the model is saved. Needs {@link #fit(ImageDataset,
   * ImageDataset)}: the checkpoint records a fingerprint of the image files.
   */
  public TransferBuilder checkpoint(Path file) {
    this.checkpoint = Objects.requireNonNull(file, "file");
    return this;
  }

  /**
   * Whether {@code fit} continues from the {@link #checkpoint(Path) checkpoint} when there is one
   * (default false: an existing checkpoint is overwritten). The result is identical to an
   * uninterrupted run's (on the CPU, same seed and thread count). A checkpoint made with other
   * settings or data is refused with a {@link GraftException} saying what differs; without a
   * checkpoint, training starts afresh.
   */
  public TransferBuilder resume(boolean resume) {
    this.resume = resume;
    return this;
  }

  /**
   * Lets another thread (a signal handler) stop training at the next safe point: {@code fit} then
   * throws {@link dev.graft.train.TrainingStoppedException}, keeping the last checkpoint.
   */
  public TransferBuilder stopSignal(StopSignal stop) {
    this.stop = Objects.requireNonNull(stop, "stop");
    return this;
  }

  /**
   * Trains on labelled image files.
   *
   * @param train training images; its labels define the classes
   * @param validation validation images with the same labels, or null
   * @return the trained model: preprocessed images to probabilities, with its provenance
   * @throws GraftException for impossible settings or mismatched labels
   */
  public TransferModel fit(ImageDataset train, ImageDataset validation) {
    Objects.requireNonNull(train, "train");
    if (validation != null && !validation.labels().equals(train.labels())) {
      throw new GraftException(
          "validation labels "
              + validation.labels()
              + " differ from training labels "
              + train.labels());
    }
    if (train.size() == 0) {
      throw new GraftException("the training set is empty");
    }
    RunSpec spec =
        spec(
            new RunSpec.Data(
                train.labels(), describe(train, "training images"), describe(train, validation)),
            classWeights.resolve(train.classCounts()),
            cacheActivations);
    if (spec.training().augmentation().enabled()) {
      log.info(
          "augmentation on: frozen activations are not cached, every epoch runs the whole network");
    }
    ImageTransform transform = spec.transform();
    ImageBatches.Builder tb =
        ImageBatches.builder(train, transform)
            .batchSize(spec.training().batchSize())
            .augmentation(spec.training().augmentation())
            .seed(seed);
    if (!spec.training().cacheActivations()) {
      tb.shuffle(seed);
    }
    try (ImageBatches trainBatches = tb.build();
        ImageBatches valBatches =
            validation == null
                ? null
                : ImageBatches.builder(validation, transform)
                    .batchSize(spec.training().batchSize())
                    .build()) {
      Checkpointing ckpt = null;
      if (checkpoint != null) {
        try {
          ckpt =
              new Checkpointing(
                  checkpoint, resume, Fingerprint.of(spec.fingerprint(), train, validation));
        } catch (IOException e) {
          throw new UncheckedIOException(
              "cannot fingerprint the training data: " + e.getMessage(), e);
        }
      }
      return run(spec, trainBatches, valBatches, trainBatches.batchesPerEpoch(), ckpt);
    }
  }

  /**
   * Trains on minibatch iterators of preprocessed images ({@code [N, 3, s, s]} at the base's input
   * size) with one-hot labels. Explicit class weights apply; "balanced" needs class counts and is
   * refused here.
   *
   * @param train training batches (reset before each pass)
   * @param validation validation batches, or null
   * @param labels class names, in label order
   */
  public TransferModel fit(DataSetIterator train, DataSetIterator validation, List<String> labels) {
    Objects.requireNonNull(train, "train");
    if (classWeights instanceof ClassWeights.Balanced) {
      throw new GraftException(
          "balanced class weights need class counts: use fit(ImageDataset, "
              + "ImageDataset) or explicit weights");
    }
    if (checkpoint != null) {
      throw new GraftException(
          "checkpoints need image files to fingerprint: use fit(ImageDataset, ImageDataset)");
    }
    RunSpec spec =
        spec(
            new RunSpec.Data(labels, "", ""),
            classWeights.resolve(new int[labels.size()]),
            cacheActivations);
    return run(spec, train, validation, 0, null);
  }

  /**
   * This builder's settings as one run description: the defaults resolved (the head; augmentation
   * off for a strategy that sees each image once; no cache with augmentation), then validated by
   * {@link RunSpec}.
   */
  private RunSpec spec(RunSpec.Data data, double[] weights, boolean cacheWanted) {
    Augmentation aug = augmentation;
    if (aug.enabled() && !strategy.acceptsAugmentation()) {
      log.warn("{} computes each image's features once: augmentation ignored", strategy.name());
      aug = Augmentation.none();
    }
    boolean cache = cacheWanted && !aug.enabled();
    return new RunSpec(
        RunSpec.BaseIdentity.of(base),
        base.preprocessing(),
        resize,
        head != null ? head : defaultHead(cache),
        strategy,
        new RunSpec.Training(
            epochs, batchSize, learningRate, patience, monitor, weights, weightDecay, aug, cache),
        data,
        seed);
  }

  private static String describe(ImageDataset d, String what) {
    return (d.source().isEmpty() ? "" : d.source() + " ") + "(" + d.size() + " " + what + ")";
  }

  /** The validation images in words: "none", held out of the training images, or their own. */
  private static String describe(ImageDataset train, ImageDataset validation) {
    if (validation == null) {
      return "none";
    }
    if (validation.source().equals(train.source()) && !train.source().isEmpty()) {
      return String.format(
          Locale.ROOT,
          "held out from %s (%d images, %.0f %%)",
          train.source(),
          validation.size(),
          100.0 * validation.size() / (validation.size() + train.size()));
    }
    return describe(validation, "images");
  }

  /**
   * The learning-rate range test on this configuration (fastai's {@code lr_find}): a short run of
   * the actual strategy and head on {@code train} with the rate growing exponentially every
   * minibatch; suggests the rate where the loss falls fastest. A logistic-regression head has no
   * rate, so without an explicit head the base's default head (trained by Adam) is tried.
   *
   * @param train training images
   * @return the curve and the suggestion ({@link LearningRateFinder.Result#suggestion()})
   * @throws GraftException for a logistic-regression head or a sweep that diverges at once
   */
  public LearningRateFinder.Result findLearningRate(ImageDataset train) {
    return findLearningRate(train, null);
  }

  /**
   * {@link #findLearningRate(ImageDataset)}, reporting progress.
   *
   * @param train training images
   * @param progress called with the number of sweep steps done (of at most {@link
   *     LearningRateFinder.Settings#defaults()}'s 100); may be null
   * @return the curve and the suggestion ({@link LearningRateFinder.Result#suggestion()})
   * @throws GraftException for a logistic-regression head or a sweep that diverges at once
   */
  public LearningRateFinder.Result findLearningRate(
      ImageDataset train, java.util.function.IntConsumer progress) {
    Objects.requireNonNull(train, "train");
    Head h = head != null ? head : base.defaultHead();
    if (h.solver() == Head.Solver.LBFGS) {
      throw new GraftException(
          "a logistic-regression head is fitted to convergence and has no learning rate;"
              + " find one for a head trained by Adam (Head.averagePooling())");
    }
    RunSpec spec =
        spec(
            new RunSpec.Data(train.labels(), "", ""),
            classWeights.resolve(train.classCounts()),
            false);
    try (ImageBatches batches =
        ImageBatches.builder(train, spec.transform())
            .batchSize(spec.training().batchSize())
            .augmentation(spec.training().augmentation())
            .seed(seed)
            .shuffle(seed)
            .build()) {
      TransferGraph tg = TransferGraph.assemble(base, spec.head(), strategy, spec.graphOptions());
      return LearningRateFinder.run(
          tg.plan(false, spec.cacheInput()),
          batches,
          LearningRateFinder.Settings.defaults(),
          seed,
          progress);
    }
  }

  /** The user's listeners, then the early warning that training looks stuck. */
  private List<TrainingListener> withWarnings(int classes) {
    List<TrainingListener> all = new ArrayList<>(listeners);
    all.add(new TrainingWarnings(classes));
    return all;
  }

  /** The head used when none was set: see {@link #head(Head)}. */
  private Head defaultHead(boolean cached) {
    return strategy.defaultsToLogisticRegression() && cached
        ? Head.logisticRegression()
        : base.defaultHead();
  }

  private TransferModel run(
      RunSpec spec,
      DataSetIterator train,
      DataSetIterator validation,
      int batchesPerEpoch,
      Checkpointing ckpt) {
    List<String> labels = spec.data().labels();
    Nd4j.getRandom().setSeed(seed);
    long start = System.currentTimeMillis();
    TransferGraph tg = TransferGraph.assemble(base, spec.head(), strategy, spec.graphOptions());
    boolean cache = spec.training().cacheActivations();
    log.info(
        "training {} on {} with {} ({} classes): {}",
        spec.head().describe(),
        base.id(),
        spec.describeStrategy(),
        labels.size(),
        cache ? "cached frozen activations" : "whole network");
    TrainingConfig cfg =
        new TrainingConfig(
            spec.training().batchSize(),
            spec.training().patience(),
            spec.training().monitor(),
            seed,
            cacheFactory,
            labels,
            withWarnings(labels.size()),
            batchesPerEpoch,
            ckpt,
            stop);
    TrainingResult r = Trainer.train(tg.plan(cache, spec.cacheInput()), train, validation, cfg);
    Map<String, String> settings =
        spec.recorded(tg.unfrozenBaseLayers(), r, (System.currentTimeMillis() - start) / 1e3);

    Map<String, Double> metrics = new LinkedHashMap<>();
    EpochRecord kept =
        r.history().epochs().stream()
            .filter(e -> e.epoch() == r.restoredEpoch())
            .findFirst()
            .orElse(null);
    if (kept != null) {
      metrics.put("trainLoss", kept.trainLoss());
      metrics.put("trainAccuracy", kept.trainAccuracy());
    }
    ClassificationReport v = r.validation();
    if (v != null) {
      metrics.put("validationAccuracy", v.accuracy());
      metrics.put("validationLoss", v.logLoss());
      metrics.put("validationMacroF1", v.macroF1());
      if (labels.size() > 5) {
        metrics.put("validationTop5", v.topK(5));
      }
    }
    metrics.put("bestEpoch", (double) r.restoredEpoch());
    ModelInfo info =
        new ModelInfo(
            null,
            base.id(),
            base.weightsKey(),
            labels,
            spec.preprocessing(),
            base.inputSize(),
            spec.resize(),
            strategy.name(),
            settings,
            metrics,
            r.history(),
            System.currentTimeMillis());
    return new TransferModel(r.network(), info);
  }
}
