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
      TrainingPlan.SharedCache shared = plan.sharedCache();
      if (shared == null) {
        return null;
      }
      FrozenPart deepest = shared.frozenPart().get();
      return new SharedCaches(
          shared.boundary(), fill(cfg, deepest, train), fill(cfg, deepest, validation));
    }
  }

  /** The runner for {@code step}, fed as the plan says; its network is built here. */
  static PhaseRunner create(
      TrainingPlan.Step step,
      SharedCaches shared,
      DataSetIterator train,
      DataSetIterator validation,
      TrainingConfig cfg,
      Random shuffle) {
    Phase phase = step.phase();
    TrainingPlan.Feed feed = step.feed();
    if (feed instanceof TrainingPlan.Feed.ConvexFit f) {
      FrozenPart frozen = f.frozenPart().get();
      ActivationCache t = fill(cfg, frozen, train);
      ActivationCache v = fill(cfg, frozen, validation);
      return new ConvexRunner(f, f.network().build(0), t, v, cfg, shuffle);
    }
    if (feed instanceof TrainingPlan.Feed.SharedCacheAsIs f) {
      int steps = phase.epochs() * ceilDiv(shared.train().size(), cfg.batchSize());
      return new CachedRunner(
          f.network().build(steps), shared.train(), shared.val(), cfg, shuffle, false);
    }
    if (feed instanceof TrainingPlan.Feed.Derived f) {
      FrozenBridge b = f.bridge().get();
      ActivationCache t =
          InMemoryActivationCache.derive(
              shared.train(), b.graph(), b.inputIndices(), f.boundary(), cfg.batchSize());
      ActivationCache v =
          shared.val() == null
              ? null
              : InMemoryActivationCache.derive(
                  shared.val(), b.graph(), b.inputIndices(), f.boundary(), cfg.batchSize());
      int steps = phase.epochs() * ceilDiv(t.size(), cfg.batchSize());
      return new CachedRunner(f.network().build(steps), t, v, cfg, shuffle, true);
    }
    if (feed instanceof TrainingPlan.Feed.OwnCache f) {
      // the schedule's length needs the example count: the network is built after the fill
      FrozenPart frozen = f.frozenPart().get();
      ActivationCache t = fill(cfg, frozen, train);
      ActivationCache v = fill(cfg, frozen, validation);
      int steps = phase.epochs() * ceilDiv(t.size(), cfg.batchSize());
      return new CachedRunner(f.network().build(steps), t, v, cfg, shuffle, true);
    }
    if (feed instanceof TrainingPlan.Feed.FrozenEachBatch f) {
      // Not cached: the frozen part still runs apart, in inference mode, on every batch.
      // Training the whole graph instead would ask DL4J to backpropagate through frozen layers,
      // which stops at a residual addition ("Cannot do backward pass: errors not set").
      log.info(
          "phase {}: frozen activations not cached (augmentation or caching off); every"
              + " epoch runs the frozen part in inference mode, then trains the rest",
          phase.name());
      FrozenPart frozen = f.frozenPart().get();
      return new DirectRunner(
          f.network().build(imageSteps(phase, cfg)), frozen, train, validation, cfg);
    }
    if (feed instanceof TrainingPlan.Feed.Images f) {
      log.info(
          "phase {}: a trainable layer reads the images directly; nothing to cache", phase.name());
      return new DirectRunner(
          f.network().build(imageSteps(phase, cfg)), null, train, validation, cfg);
    }
    throw new IllegalStateException("unknown feed " + feed);
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
