package dev.graft.features;

import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.data.SkippedFile;
import dev.graft.error.Ranges;
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
 * <p>{@link #images} decodes ahead without preprocessing, for callers that transform the images
 * themselves (test-time augmentation's views). Either way a file that cannot be read can be skipped
 * (Graft's one skip policy, {@link SkippedFile}): what {@code predict}, {@code evaluate},
 * training's validation report and the featurizer do.
 *
 * <p>Not thread-safe: one consumer.
 */
public final class DecodedBatches implements AutoCloseable {
  private final List<Path> files;
  private final int batchSize;
  private final ImageTransform transform;
  private final boolean skipUnreadable;
  private final ExecutorService decoder;
  private Future<Decoded> ahead;
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
    this(files, batchSize, transform, false);
  }

  /**
   * Decoded images, one batch ahead, without preprocessing ({@link #nextImages()}).
   *
   * @param skipUnreadable leave out a file that cannot be read or decoded (each batch says which
   *     and why) instead of failing on it
   */
  public static DecodedBatches images(List<Path> files, int batchSize, boolean skipUnreadable) {
    return new DecodedBatches(files, batchSize, null, skipUnreadable);
  }

  /**
   * One batch of decoded images.
   *
   * @param files the files read, in order
   * @param images their images, in the same order
   * @param skipped the batch's files left out, with why
   * @param tensor the preprocessed images {@code [n, 3, s, s]}, or null when decoding images only
   */
  public record Decoded(
      List<Path> files, List<BufferedImage> images, List<SkippedFile> skipped, INDArray tensor) {}

  /**
   * Starts decoding the first batch.
   *
   * @param files image files, in order
   * @param batchSize images per batch, at least 1
   * @param transform how a decoded image becomes network input; null to decode only
   * @param skipUnreadable leave out a file that cannot be read or decoded (each batch lists it in
   *     {@link Decoded#skipped()}; the caller warns, {@link SkippedFile#warn}) instead of failing
   */
  public DecodedBatches(
      List<Path> files, int batchSize, ImageTransform transform, boolean skipUnreadable) {
    this.files = List.copyOf(files);
    this.batchSize = Ranges.batchSize(batchSize);
    this.transform = transform;
    this.skipUnreadable = skipUnreadable;
    this.decoder =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "graft-decode");
              t.setDaemon(true);
              return t;
            });
    submitNext();
  }

  /**
   * Files handled so far (read, or skipped as unreadable) by {@link #next()} and {@link
   * #nextImages()}.
   */
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
    Decoded d = nextImages();
    return d == null ? null : d.tensor();
  }

  /**
   * The next batch of decoded images (preprocessed too unless made by {@link #images}), or null
   * after the last. A batch may hold no image when every file of it was skipped.
   *
   * @throws IOException "cannot read image FILE: why", for the first file of the batch that cannot
   *     be read or decoded, unless unreadable files are skipped
   */
  public Decoded nextImages() throws IOException {
    if (ahead == null) {
      return null;
    }
    Decoded batch;
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
    delivered += batch.files().size() + batch.skipped().size();
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

  private Decoded decode(List<Path> chunk) {
    List<Path> read = new ArrayList<>(chunk.size());
    List<BufferedImage> imgs = new ArrayList<>(chunk.size());
    List<SkippedFile> skipped = new ArrayList<>();
    for (Path p : chunk) {
      try {
        imgs.add(ImageDecoder.read(p));
        read.add(p);
      } catch (IOException | RuntimeException e) {
        SkippedFile skip = SkippedFile.of(p, e);
        if (!skipUnreadable) {
          throw new UncheckedIOException(
              new IOException("cannot read image " + p + ": " + skip.reason(), e));
        }
        skipped.add(skip);
      }
    }
    INDArray tensor = transform == null || imgs.isEmpty() ? null : transform.toBatch(imgs);
    return new Decoded(read, imgs, skipped, tensor);
  }

  /** Stops the decoding thread. */
  @Override
  public void close() {
    decoder.shutdownNow();
  }
}
