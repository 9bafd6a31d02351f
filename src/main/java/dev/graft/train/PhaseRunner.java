package dev.graft.train;

import dev.graft.metrics.ClassificationReport;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.FrozenPart;
import dev.graft.strategy.InMemoryActivationCache;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TransferGraph;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One phase's way of running epochs, and the choice between them ({@link #create}): cached
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
    Double lr = net.getLearningRate(TransferGraph.OUTPUT);
    return lr == null ? Double.NaN : lr;
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

    /**
     * With several phases (fine-tune: head-only warm-up, then the unfrozen layers), the last
     * phase's boundary is the deepest: cache there first and derive the earlier phases' caches from
     * it, so that the base runs over each image once. Null when there is nothing to share.
     */
    static SharedCaches build(
        TransferGraph tg, DataSetIterator train, DataSetIterator validation, TrainingConfig cfg) {
      List<Phase> phases = tg.phases();
      Phase lastPhase = phases.get(phases.size() - 1);
      if (!cfg.cacheActivations() || phases.stream().filter(p -> p.epochs() > 0).count() <= 1) {
        return null;
      }
      Optional<FrozenPart> deepest = tg.frozenPart(lastPhase, cfg.cacheKey());
      if (deepest.isEmpty()) {
        return null;
      }
      try {
        return new SharedCaches(
            tg.boundary(lastPhase),
            cfg.cacheFactory().build(deepest.get(), train),
            validation == null ? null : cfg.cacheFactory().build(deepest.get(), validation));
      } catch (IOException e) {
        throw new UncheckedIOException("activation cache failed: " + e.getMessage(), e);
      }
    }
  }

  /** The runner for {@code phase}: the network it trains is built here, from {@code tg}. */
  static PhaseRunner create(
      TransferGraph tg,
      Phase phase,
      boolean last,
      SharedCaches shared,
      DataSetIterator train,
      DataSetIterator validation,
      TrainingConfig cfg,
      Random shuffle) {
    if (phase.convex()) {
      return ConvexRunner.build(tg, phase, train, validation, cfg, shuffle);
    }
    if (shared != null) {
      if (last) {
        int steps = phase.epochs() * ceilDiv(shared.train().size(), cfg.batchSize());
        return new CachedRunner(
            tg.trainablePart(phase, steps), shared.train(), shared.val(), cfg, shuffle, false);
      }
      List<String> boundary = tg.boundary(phase);
      Optional<TransferGraph.Bridge> bridge = tg.bridge(shared.boundary(), boundary);
      if (bridge.isPresent()) {
        var b = bridge.get();
        ActivationCache t =
            InMemoryActivationCache.derive(
                shared.train(), b.graph(), b.inputIndices(), boundary, cfg.batchSize());
        ActivationCache v =
            shared.val() == null
                ? null
                : InMemoryActivationCache.derive(
                    shared.val(), b.graph(), b.inputIndices(), boundary, cfg.batchSize());
        int steps = phase.epochs() * ceilDiv(t.size(), cfg.batchSize());
        return new CachedRunner(tg.trainablePart(phase, steps), t, v, cfg, shuffle, true);
      }
    }
    Optional<FrozenPart> frozen = tg.frozenPart(phase, cfg.cacheKey());
    if (frozen.isEmpty()) {
      log.info(
          "phase {}: a trainable layer reads the images directly; nothing to cache", phase.name());
    } else if (cfg.cacheActivations()) {
      // Cache at the freeze boundary; the schedule length needs the example count, so the
      // trainable part is built after the cache has been filled.
      try {
        ActivationCache trainCache = cfg.cacheFactory().build(frozen.get(), train);
        ActivationCache valCache =
            validation == null ? null : cfg.cacheFactory().build(frozen.get(), validation);
        int steps = phase.epochs() * ceilDiv(trainCache.size(), cfg.batchSize());
        return new CachedRunner(
            tg.trainablePart(phase, steps), trainCache, valCache, cfg, shuffle, true);
      } catch (IOException e) {
        throw new UncheckedIOException("activation cache failed: " + e.getMessage(), e);
      }
    }
    int steps = 0;
    if (phase.warmupCosine()) {
      steps = phase.epochs() * cfg.batchesPerEpoch();
      if (steps == 0) {
        log.warn("phase {}: unknown number of batches; constant learning rate", phase.name());
      }
    }
    if (frozen.isPresent()) {
      // Not cached: the frozen part still runs apart, in inference mode, on every batch.
      // Training the whole graph instead would ask DL4J to backpropagate through frozen layers,
      // which stops at a residual addition ("Cannot do backward pass: errors not set").
      log.info(
          "phase {}: frozen activations not cached (augmentation or caching off); every"
              + " epoch runs the frozen part in inference mode, then trains the rest",
          phase.name());
      return new DirectRunner(tg.trainablePart(phase, steps), frozen.get(), train, validation, cfg);
    }
    return new DirectRunner(tg.phaseNetwork(phase, steps), null, train, validation, cfg);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
