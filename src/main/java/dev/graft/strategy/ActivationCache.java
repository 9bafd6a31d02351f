package dev.graft.strategy;

import java.io.IOException;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * The activations of a {@link FrozenPart} for a whole dataset, computed once and replayed every
 * epoch: how frozen-base, fine-tune (without augmentation) and feature-extraction training avoid
 * recomputing the frozen layers. The in-memory implementation is {@link #inMemory()}; an on-disk
 * one can be plugged in through {@link Factory}.
 *
 * <pre>{@code
 * try (ActivationCache cache = ActivationCache.inMemory().build(frozenPart, images)) {
 *   MultiDataSet batch = cache.batch(new int[] {3, 1, 4});
 * }
 * }</pre>
 */
public interface ActivationCache extends AutoCloseable {

  /** Number of examples. */
  int size();

  /** Number of classes of the labels. */
  int numClasses();

  /**
   * The examples at {@code indices}, in that order: features are the boundary activations (one
   * array per {@link FrozenPart#outputs()}), labels one-hot {@code [n, classes]}.
   */
  MultiDataSet batch(int[] indices);

  /** Bytes held (in memory or on disk), for logging. */
  long bytes();

  /** Releases what the cache holds. */
  @Override
  void close();

  /** Builds caches; the seam for an on-disk cache. */
  @FunctionalInterface
  interface Factory {
    /**
     * Runs {@code part} over every example of {@code data} (from a reset, to its end) and keeps the
     * activations with the labels.
     *
     * @throws IOException when a persistent cache cannot be read or written
     */
    ActivationCache build(FrozenPart part, DataSetIterator data) throws IOException;
  }

  /** The in-memory cache factory. */
  static Factory inMemory() {
    return InMemoryActivationCache::build;
  }

  /**
   * The on-disk cache factory ({@link DiskActivationCache}): activations persist under {@code root}
   * across runs and processes, keyed by {@link FrozenPart#key()} and each example's pixels.
   *
   * @param root directory holding the feature caches
   * @return the factory
   */
  static Factory onDisk(java.nio.file.Path root) {
    return (part, data) -> DiskActivationCache.build(root, part, data);
  }
}
