package dev.graft.train;

import dev.graft.error.Ranges;
import dev.graft.metrics.Monitor;
import dev.graft.strategy.ActivationCache;
import java.util.List;

/**
 * How the loop runs (what trains at which rate, and what is cached, is the {@link
 * dev.graft.strategy.TrainingPlan}'s business).
 *
 * @param batchSize examples per minibatch when training on cached activations (image batches come
 *     from the iterator as they are)
 * @param patience early stopping: epochs without improvement of {@code monitor} before the
 *     fine-tuning or head phase stops; 0 turns early stopping off (the best epoch is still kept)
 * @param monitor what "best" means
 * @param seed seeds shuffling of cached activations and ND4J's generator (dropout)
 * @param cacheFactory where the activations the plan caches live
 * @param labels class names for the reports
 * @param listeners callbacks
 * @param batchesPerEpoch minibatches in one pass over the training iterator, when known (0:
 *     unknown); sizes the warm-up + cosine schedule when activations are not cached
 * @param checkpointing where to keep a checkpoint at each epoch's end and whether to resume from
 *     it, or null for none
 * @param stop asks the loop to stop at its next safe point, or null
 */
public record TrainingConfig(
    int batchSize,
    int patience,
    Monitor monitor,
    long seed,
    ActivationCache.Factory cacheFactory,
    List<String> labels,
    List<TrainingListener> listeners,
    int batchesPerEpoch,
    Checkpointing checkpointing,
    StopSignal stop) {

  /** Validates. */
  public TrainingConfig {
    Ranges.batchSize(batchSize);
    Ranges.patience(patience);
    monitor = monitor == null ? Monitor.VALIDATION_LOSS : monitor;
    cacheFactory = cacheFactory == null ? ActivationCache.inMemory() : cacheFactory;
    labels = List.copyOf(labels);
    listeners = listeners == null ? List.of() : List.copyOf(listeners);
  }

  /** Defaults: batch 32, no early stopping, validation loss, seed 42, cache in memory. */
  public static TrainingConfig defaults(List<String> labels) {
    return new TrainingConfig(
        32, 0, Monitor.VALIDATION_LOSS, 42, null, labels, null, 0, null, null);
  }

  /** A copy with another batch size. */
  public TrainingConfig withBatchSize(int b) {
    return new TrainingConfig(
        b,
        patience,
        monitor,
        seed,
        cacheFactory,
        labels,
        listeners,
        batchesPerEpoch,
        checkpointing,
        stop);
  }

  /** A copy with early stopping after {@code p} epochs without improvement. */
  public TrainingConfig withPatience(int p) {
    return new TrainingConfig(
        batchSize,
        p,
        monitor,
        seed,
        cacheFactory,
        labels,
        listeners,
        batchesPerEpoch,
        checkpointing,
        stop);
  }

  /** A copy with another monitor. */
  public TrainingConfig withMonitor(Monitor m) {
    return new TrainingConfig(
        batchSize,
        patience,
        m,
        seed,
        cacheFactory,
        labels,
        listeners,
        batchesPerEpoch,
        checkpointing,
        stop);
  }

  /** A copy with another seed. */
  public TrainingConfig withSeed(long s) {
    return new TrainingConfig(
        batchSize,
        patience,
        monitor,
        s,
        cacheFactory,
        labels,
        listeners,
        batchesPerEpoch,
        checkpointing,
        stop);
  }

  /** A copy with another cache factory (where cached activations live). */
  public TrainingConfig withCacheFactory(ActivationCache.Factory f) {
    return new TrainingConfig(
        batchSize,
        patience,
        monitor,
        seed,
        f,
        labels,
        listeners,
        batchesPerEpoch,
        checkpointing,
        stop);
  }

  /** A copy with a known number of training minibatches per epoch. */
  public TrainingConfig withBatchesPerEpoch(int n) {
    return new TrainingConfig(
        batchSize,
        patience,
        monitor,
        seed,
        cacheFactory,
        labels,
        listeners,
        n,
        checkpointing,
        stop);
  }

  /** A copy with these listeners. */
  public TrainingConfig withListeners(List<TrainingListener> l) {
    return new TrainingConfig(
        batchSize,
        patience,
        monitor,
        seed,
        cacheFactory,
        labels,
        l,
        batchesPerEpoch,
        checkpointing,
        stop);
  }

  /** A copy with checkpoints (null: none). */
  public TrainingConfig withCheckpointing(Checkpointing c) {
    return new TrainingConfig(
        batchSize,
        patience,
        monitor,
        seed,
        cacheFactory,
        labels,
        listeners,
        batchesPerEpoch,
        c,
        stop);
  }

  /** A copy with a stop signal (null: none). */
  public TrainingConfig withStop(StopSignal s) {
    return new TrainingConfig(
        batchSize,
        patience,
        monitor,
        seed,
        cacheFactory,
        labels,
        listeners,
        batchesPerEpoch,
        checkpointing,
        s);
  }
}
