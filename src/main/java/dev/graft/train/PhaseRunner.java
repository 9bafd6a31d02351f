package dev.graft.train;

import dev.graft.metrics.ClassificationReport;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.FrozenBridge;
import dev.graft.strategy.FrozenPart;
import dev.graft.strategy.InMemoryActivationCache;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TrainingPlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One phase's way of running epochs ({@link #create}), as the {@link TrainingPlan} feeds it: cached
 * activations, activations derived from a deeper phase's cache, or the images themselves.
 */
abstract class PhaseRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PhaseRunner.class);

  final ComputationGraph net;
  final TrainingConfig cfg;
  final AccuracyProbe probe;

  PhaseRunner(ComputationGraph net, TrainingConfig cfg) {
    this.net = net;
    this.cfg = cfg;
    this.probe = new AccuracyProbe(net);
    net.addListeners(probe);
  }

  /** The network this phase trains (its part of the whole). */
  ComputationGraph net() {
    return net;
  }

  /** Whether it trains on cached activations. */
  abstract boolean cached();

  /**
   * One pass over the training data; {@code afterBatch} runs after every minibatch (the loop's safe
   * point for a stop).
   *
   * @return mean training loss and accuracy
   */
  abstract double[] trainEpoch(Runnable afterBatch);

  /** Validation outputs, or null without validation data. */
  abstract Validation validate();

  double learningRate() {
    Double lr = net.getLearningRate(outputLayer(net));
    return lr == null ? Double.NaN : lr;
  }

  /** The network's one output layer (the head's softmax). */
  static String outputLayer(ComputationGraph net) {
    return net.getConfiguration().getNetworkOutputs().get(0);
  }

  /** What the run should record about this phase beyond its epochs (default none). */
  java.util.Map<String, String> notes() {
    return java.util.Map.of();
  }

  @Override
  public void close() {}

  /** Validation labels and probabilities (float32, all batches) and their report. */
  record Validation(INDArray labels, INDArray probabilities, ClassificationReport report) {
    static Validation of(TrainingConfig cfg, List<INDArray> labels, List<INDArray> probs) {
      if (labels.isEmpty()) {
        return null;
      }
      INDArray l =
          Nd4j.concat(
              0, labels.stream().map(a -> a.castTo(DataType.FLOAT)).toArray(INDArray[]::new));
      INDArray p =
          Nd4j.concat(
              0, probs.stream().map(a -> a.castTo(DataType.FLOAT)).toArray(INDArray[]::new));
      return new Validation(l, p, PhaseRunner.report(cfg, l, p));
    }
  }

  /** The report of validation labels and probabilities, with the run's class names. */
  static ClassificationReport report(TrainingConfig cfg, INDArray labels, INDArray probs) {
    List<String> names = cfg.labels();
    if (names.size() != labels.size(1)) {
      names = new ArrayList<>();
      for (int i = 0; i < labels.size(1); i++) {
        names.add(Integer.toString(i));
      }
    }
    return ClassificationReport.of(names, labels, probs);
  }

  /** Caches at the deepest boundary, shared by the phases; closed when training ends. */
  record SharedCaches(List<String> boundary, ActivationCache train, ActivationCache val)
      implements AutoCloseable {
    @Override
    public void close() {
      train.close();
      if (val != null) {
        val.close();
      }
    }

    /** Fills the plan's {@link TrainingPlan#sharedCache() shared cache}; null when it has none. */
    static SharedCaches build(
        TrainingPlan plan, DataSetIterator train, DataSetIterator validation, TrainingConfig cfg) {
      TrainingPlan.FrozenSpec shared = plan.sharedCache();
      if (shared == null) {
        return null;
      }
      FrozenPart deepest = plan.frozenPart(shared);
      return new SharedCaches(
          shared.boundary(), fill(cfg, deepest, train), fill(cfg, deepest, validation));
    }
  }

  /**
   * The runner for {@code step}, fed as the plan says; its network is built here.
   *
   * @param plan the plan (its network is where the parts are built from)
   * @param step the phase and its feed
   * @param shared the shared caches, or null when the plan has none
   */
  static PhaseRunner open(
      TrainingPlan plan,
      TrainingPlan.Step step,
      SharedCaches shared,
      DataSetIterator train,
      DataSetIterator validation,
      TrainingConfig cfg,
      Random shuffle) {
    return step.feed()
        .accept(new Opener(plan, step.phase(), shared, train, validation, cfg, shuffle));
  }

  /** Turns each kind of feed into its runner: the one place that knows which runner a feed gets. */
  private record Opener(
      TrainingPlan plan,
      Phase phase,
      SharedCaches shared,
      DataSetIterator train,
      DataSetIterator validation,
      TrainingConfig cfg,
      Random shuffle)
      implements TrainingPlan.Feed.Visitor<PhaseRunner> {

    /** The part the phase trains, scheduled over {@code examples} per epoch. */
    private ComputationGraph part(TrainingPlan.Feed f, int examples) {
      int steps = phase.epochs() * ceilDiv(examples, cfg.batchSize());
      return plan.trainablePart(phase, f.trainable(), steps);
    }

    @Override
    public PhaseRunner convexFit(TrainingPlan.Feed.ConvexFit f) {
      FrozenPart frozen = plan.frozenPart(f.frozen());
      ActivationCache t = fill(cfg, frozen, train);
      ActivationCache v = fill(cfg, frozen, validation);
      return new ConvexRunner(
          f.l2(),
          f.classWeights(),
          plan.trainablePart(phase, f.trainable(), 0),
          t,
          v,
          cfg,
          shuffle);
    }

    @Override
    public PhaseRunner sharedCacheAsIs(TrainingPlan.Feed.SharedCacheAsIs f) {
      return new CachedRunner(
          part(f, shared.train().size()), shared.train(), shared.val(), cfg, shuffle, false);
    }

    @Override
    public PhaseRunner derived(TrainingPlan.Feed.Derived f) {
      FrozenBridge b = plan.bridge(f.bridge());
      List<String> to = f.bridge().outputs();
      ActivationCache t =
          InMemoryActivationCache.derive(
              shared.train(), b.graph(), b.inputIndices(), to, cfg.batchSize());
      ActivationCache v =
          shared.val() == null
              ? null
              : InMemoryActivationCache.derive(
                  shared.val(), b.graph(), b.inputIndices(), to, cfg.batchSize());
      return new CachedRunner(part(f, t.size()), t, v, cfg, shuffle, true);
    }

    @Override
    public PhaseRunner ownCache(TrainingPlan.Feed.OwnCache f) {
      // the schedule's length needs the example count: the network is built after the fill
      FrozenPart frozen = plan.frozenPart(f.frozen());
      ActivationCache t = fill(cfg, frozen, train);
      ActivationCache v = fill(cfg, frozen, validation);
      return new CachedRunner(part(f, t.size()), t, v, cfg, shuffle, true);
    }

    @Override
    public PhaseRunner frozenEachBatch(TrainingPlan.Feed.FrozenEachBatch f) {
      // Not cached: the frozen part still runs apart, in inference mode, on every batch.
      // Training the whole graph instead would ask DL4J to backpropagate through frozen layers,
      // which stops at a residual addition ("Cannot do backward pass: errors not set").
      log.info(
          "phase {}: frozen activations not cached (augmentation or caching off); every"
              + " epoch runs the frozen part in inference mode, then trains the rest",
          phase.name());
      return new DirectRunner(
          plan.trainablePart(phase, f.trainable(), imageSteps(phase, cfg)),
          plan.frozenPart(f.frozen()),
          train,
          validation,
          cfg);
    }

    @Override
    public PhaseRunner images(TrainingPlan.Feed.Images f) {
      log.info(
          "phase {}: a trainable layer reads the images directly; nothing to cache", phase.name());
      return new DirectRunner(
          plan.trainablePart(phase, f.trainable(), imageSteps(phase, cfg)),
          null,
          train,
          validation,
          cfg);
    }
  }

  /** Schedule length of a phase fed by the images: 0 (constant rates) when unknown. */
  private static int imageSteps(Phase phase, TrainingConfig cfg) {
    if (!phase.warmupCosine()) {
      return 0;
    }
    int steps = phase.epochs() * cfg.batchesPerEpoch();
    if (steps == 0) {
      log.warn("phase {}: unknown number of batches; constant learning rate", phase.name());
    }
    return steps;
  }

  /** The frozen part's activations over {@code it}, cached; null without data (no validation). */
  private static ActivationCache fill(TrainingConfig cfg, FrozenPart frozen, DataSetIterator it) {
    if (it == null) {
      return null;
    }
    try {
      return cfg.cacheFactory().build(frozen, it);
    } catch (IOException e) {
      throw new UncheckedIOException("activation cache failed: " + e.getMessage(), e);
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
