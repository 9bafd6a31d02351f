package dev.graft.spark;

import dev.graft.base.Base;
import dev.graft.data.ImageTransform;
import dev.graft.features.Featurizer;
import dev.graft.features.InferenceNetwork;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One executor JVM's loaded base, shared by all its tasks: images in, pooled features out, computed
 * as {@code graft featurize} computes them (same transform, same optimized graph, output at the
 * base's feature layer, convolutional maps averaged over height and width).
 *
 * <p>DL4J networks are not thread-safe, so each task borrows one of up to {@code slots} clones of
 * the base graph for one forward pass; the optimized graph is only copied from.
 */
final class SharedFeaturizer {
  private static final Logger LOG = LoggerFactory.getLogger(SharedFeaturizer.class);
  private static final java.util.concurrent.atomic.AtomicInteger LOADS =
      new java.util.concurrent.atomic.AtomicInteger();

  private final Base base;
  private final ImageTransform transform;
  private final InferenceNetwork network;
  private final BlockingQueue<InferenceNetwork> idle;
  private final int slots;
  private int created;

  private SharedFeaturizer(Base base, FeaturizerSettings settings, int slots) {
    this.base = base;
    this.transform =
        new ImageTransform(base.inputSize(), settings.resizeMode(), base.preprocessing());
    this.slots = slots;
    this.idle = new ArrayBlockingQueue<>(slots);
    // the optimized graph up to the cut, as graft featurize runs it (dev.graft.features.Featurizer)
    this.network = InferenceNetwork.of(base.graph(), List.of(), List.of(base.featureLayer()));
  }

  /** This JVM's featurizer for {@code settings}, loaded by the first task that asks. */
  static SharedFeaturizer of(FeaturizerSettings settings) throws IOException {
    return JvmCache.get(
        settings.key(),
        () -> {
          long t0 = System.nanoTime();
          LOADS.incrementAndGet();
          SharedFeaturizer f = new SharedFeaturizer(settings.load(), settings, ExecutorJvm.slots());
          LOG.info(
              "loaded {} for {} task slot(s) in {} ms",
              f.base,
              f.slots,
              (System.nanoTime() - t0) / 1_000_000);
          return f;
        });
  }

  /** How many bases this JVM has loaded (the tests check that it is once per JVM). */
  static int loads() {
    return LOADS.get();
  }

  /** The loaded base. */
  Base base() {
    return base;
  }

  /** Pooled features of each image, {@code [images][F]}, one forward pass. */
  float[][] features(List<BufferedImage> images) {
    INDArray input = transform.toBatch(images);
    InferenceNetwork net = acquire();
    try {
      return Featurizer.pool(net.output(input)[0]).toFloatMatrix();
    } finally {
      idle.offer(net);
    }
  }

  private InferenceNetwork acquire() {
    InferenceNetwork net = idle.poll();
    if (net != null) {
      return net;
    }
    synchronized (this) {
      if (created < slots) {
        created++;
        return network.copy();
      }
    }
    try {
      return idle.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a free copy of the base", e);
    }
  }
}
