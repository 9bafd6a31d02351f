package dev.graft.model;

import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.error.GraftException;
import dev.graft.perf.NativeTuning;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns images into top-k predictions with a loaded {@link TransferModel}, preprocessing them
 * exactly as training did ({@link ImageDecoder} then {@link ImageTransform}).
 *
 * <p>One instance is safe to share between threads: DL4J networks are not, so the predictor keeps a
 * small pool of network clones (at most {@code maxConcurrency}, made on demand) and lends one to
 * each call. Results do not depend on which clone serves a call.
 *
 * <p>The caller owns a predictor from {@link TransferModel#predictor()} and closes it; closing
 * releases its clones and never affects the model, which keeps a predictor of its own for {@link
 * TransferModel#predict} and {@link TransferModel#evaluate}.
 *
 * <pre>{@code
 * try (Predictor p = TransferModel.load(Path.of("digits.graft")).predictor()) {
 *   List<Prediction> top3 = p.predict(Path.of("seven.png"), 3);
 *   List<List<Prediction>> all = p.predictAll(files, 1);
 * }
 * }</pre>
 */
public final class Predictor implements AutoCloseable {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  /** Images per forward pass in batch prediction. */
  public static final int DEFAULT_BATCH = 32;

  private final ComputationGraph prototype;
  private final ModelInfo info;
  private final ImageTransform transform;
  private final int maxConcurrency;
  private final BlockingQueue<ComputationGraph> idle;
  private final AtomicInteger created = new AtomicInteger();
  private volatile boolean closed;

  Predictor(ComputationGraph network, ModelInfo info, int maxConcurrency) {
    if (maxConcurrency < 1) {
      throw new GraftException("maxConcurrency must be >= 1, got " + maxConcurrency);
    }
    this.prototype = network;
    this.info = info;
    this.transform = new ImageTransform(info.inputSize(), info.resize(), info.preprocessing());
    this.maxConcurrency = maxConcurrency;
    this.idle = new ArrayBlockingQueue<>(maxConcurrency);
  }

  /** The model's description (labels, input size, preprocessing, ...). */
  public ModelInfo info() {
    return info;
  }

  /** The transform that turns a decoded image into the network's input. */
  public ImageTransform transform() {
    return transform;
  }

  /**
   * The top {@code topK} labels for the image file, most probable first.
   *
   * @throws IOException if the file cannot be read or decoded
   */
  public List<Prediction> predict(Path image, int topK) throws IOException {
    return predict(ImageDecoder.read(image), topK);
  }

  /** The top {@code topK} labels for a decoded image, most probable first. */
  public List<Prediction> predict(BufferedImage image, int topK) {
    return predict(transform.toChw(image), topK);
  }

  /**
   * The top {@code topK} labels for an already preprocessed image.
   *
   * @param chw {@code 3 × inputSize × inputSize} values, channel-major, preprocessed as {@link
   *     #transform()} does
   * @throws GraftException if the array has the wrong length
   */
  public List<Prediction> predict(float[] chw, int topK) {
    int s = info.inputSize();
    if (chw.length != 3 * s * s) {
      throw new GraftException(
          "expected 3x"
              + s
              + "x"
              + s
              + " = "
              + 3 * s * s
              + " preprocessed values, got "
              + chw.length);
    }
    INDArray input = Nd4j.create(chw, new long[] {1, 3, s, s});
    return topK(run(input)[0], topK);
  }

  /** Top-k predictions for many decoded images, in order, computed in batches. */
  public List<List<Prediction>> predictImages(List<BufferedImage> images, int topK) {
    List<List<Prediction>> out = new ArrayList<>(images.size());
    for (int from = 0; from < images.size(); from += DEFAULT_BATCH) {
      List<BufferedImage> chunk =
          images.subList(from, Math.min(images.size(), from + DEFAULT_BATCH));
      for (float[] p : run(transform.toBatch(chunk))) {
        out.add(topK(p, topK));
      }
    }
    return out;
  }

  /**
   * Top-k predictions for many image files, in order, computed in batches.
   *
   * @throws IOException naming the first file that cannot be read or decoded
   */
  public List<List<Prediction>> predictAll(List<Path> images, int topK) throws IOException {
    List<List<Prediction>> out = new ArrayList<>(images.size());
    for (float[] p : probabilities(images, null)) {
      out.add(topK(p, topK));
    }
    return out;
  }

  /**
   * Class probabilities for many image files, in order ({@code [images][classes]}).
   *
   * @param progress called with the number of images done after each batch; may be null
   * @throws IOException naming the first file that cannot be read or decoded
   */
  public float[][] probabilities(List<Path> images, IntConsumer progress) throws IOException {
    float[][] out = new float[images.size()][];
    for (int from = 0; from < images.size(); from += DEFAULT_BATCH) {
      int to = Math.min(images.size(), from + DEFAULT_BATCH);
      List<BufferedImage> decoded = new ArrayList<>(to - from);
      for (Path p : images.subList(from, to)) {
        decoded.add(ImageDecoder.read(p));
      }
      float[][] probs = run(transform.toBatch(decoded));
      System.arraycopy(probs, 0, out, from, probs.length);
      if (progress != null) {
        progress.accept(to);
      }
    }
    return out;
  }

  /** Class probabilities for a preprocessed batch {@code [N, 3, s, s]} ({@code [N][classes]}). */
  public float[][] probabilities(INDArray batch) {
    return run(batch);
  }

  private float[][] run(INDArray input) {
    ComputationGraph net = acquire();
    try {
      INDArray out = net.output(false, input.castTo(DataType.FLOAT))[0];
      int n = (int) out.size(0);
      float[][] rows = new float[n][];
      for (int i = 0; i < n; i++) {
        rows[i] = out.getRow(i).dup().toFloatVector();
      }
      return rows;
    } finally {
      idle.offer(net);
    }
  }

  private ComputationGraph acquire() {
    if (closed) {
      throw new IllegalStateException("predictor is closed");
    }
    ComputationGraph net = idle.poll();
    if (net != null) {
      return net;
    }
    while (true) {
      int n = created.get();
      if (n >= maxConcurrency) {
        break;
      }
      if (created.compareAndSet(n, n + 1)) {
        try {
          synchronized (prototype) {
            return prototype.clone();
          }
        } catch (RuntimeException | Error e) {
          created.decrementAndGet(); // give the slot back, or waiters block forever
          throw e;
        }
      }
    }
    try {
      return idle.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a free network", e);
    }
  }

  List<Prediction> topK(float[] probs, int k) {
    if (k < 1) {
      throw new GraftException("top-k must be >= 1, got " + k);
    }
    int n = Math.min(k, probs.length);
    Integer[] idx = new Integer[probs.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    java.util.Arrays.sort(
        idx,
        (a, b) -> {
          int c = Float.compare(probs[b], probs[a]);
          return c != 0 ? c : Integer.compare(a, b);
        });
    List<Prediction> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new Prediction(info.labels().get(idx[i]), idx[i], probs[idx[i]]));
    }
    return List.copyOf(out);
  }

  /** Releases the pooled network clones; later calls on this predictor fail. */
  @Override
  public void close() {
    closed = true;
    idle.clear();
  }
}
