package dev.graft.features;

import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Image files decoded and preprocessed in batches by a thread of its own, one batch ahead of the
 * caller: while the network runs on batch {@code i}, batch {@code i + 1} is being decoded, so a
 * forward pass seldom waits for JPEG decoding. Memory: two batches of pixels at most.
 *
 * <pre>{@code
 * try (DecodedBatches batches = new DecodedBatches(files, 32, transform)) {
 *   for (INDArray b = batches.next(); b != null; b = batches.next()) { ... }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one consumer.
 */
public final class DecodedBatches implements AutoCloseable {
  private final List<Path> files;
  private final int batchSize;
  private final ImageTransform transform;
  private final ExecutorService decoder;
  private Future<INDArray> ahead;
  private int nextFrom;
  private int delivered;

  /**
   * Starts decoding the first batch.
   *
   * @param files image files, in order
   * @param batchSize images per batch, at least 1
   * @param transform how a decoded image becomes network input
   */
  public DecodedBatches(List<Path> files, int batchSize, ImageTransform transform) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    this.files = List.copyOf(files);
    this.batchSize = batchSize;
    this.transform = transform;
    this.decoder =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "graft-decode");
              t.setDaemon(true);
              return t;
            });
    submitNext();
  }

  /** Images delivered so far by {@link #next()}. */
  public int delivered() {
    return delivered;
  }

  /**
   * The next batch, {@code [n, 3, s, s]}, or null after the last.
   *
   * @throws IOException "cannot read image FILE: why", for the first file of the batch that cannot
   *     be read or decoded
   */
  public INDArray next() throws IOException {
    if (ahead == null) {
      return null;
    }
    INDArray batch;
    try {
      batch = ahead.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while decoding images", e);
    } catch (ExecutionException e) {
      ahead = null;
      if (e.getCause() instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(e.getCause());
    }
    delivered += (int) batch.size(0);
    submitNext();
    return batch;
  }

  private void submitNext() {
    if (nextFrom >= files.size()) {
      ahead = null;
      return;
    }
    List<Path> chunk = files.subList(nextFrom, Math.min(files.size(), nextFrom + batchSize));
    nextFrom += chunk.size();
    ahead = decoder.submit(() -> decode(chunk));
  }

  private INDArray decode(List<Path> chunk) {
    List<BufferedImage> imgs = new ArrayList<>(chunk.size());
    for (Path p : chunk) {
      try {
        imgs.add(ImageDecoder.read(p));
      } catch (IOException | RuntimeException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        throw new UncheckedIOException(
            new IOException("cannot read image " + p + ": " + why.replace(p + ": ", ""), e));
      }
    }
    return transform.toBatch(imgs);
  }

  /** Stops the decoding thread. */
  @Override
  public void close() {
    decoder.shutdownNow();
  }
}
