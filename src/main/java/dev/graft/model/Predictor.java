package dev.graft.model;

import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.data.SkippedFile;
import dev.graft.error.GraftException;
import dev.graft.features.DecodedBatches;
import dev.graft.features.InferenceNetwork;
import dev.graft.graph.Topology;
import dev.graft.perf.NativeTuning;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns images into top-k predictions with a loaded {@link TransferModel}, preprocessing them
 * exactly as training did ({@link ImageDecoder} then {@link ImageTransform}).
 *
 * <p>It runs the model's network optimized for inference ({@link InferenceNetwork}: BatchNorm
 * folded, activations fused), rebuilt from the plain network when the predictor is made, and split
 * where training split it, so the features its head reads are those the head was trained on ({@link
 * #features}). Files are decoded by a thread one batch ahead of the forward pass.
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
 *   List<List<Prediction>> all = p.predictFiles(files, 1);
 * }
 * }</pre>
 *
 * <p>Why one class of this size: single images, files decoded ahead (with the skip policy), batches
 * and top-k all run the one inference network and its memory-bounded chunks, which the class owns
 * and closes.
 */
public final class Predictor implements AutoCloseable {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  /** Images per forward pass in batch prediction. */
  public static final int DEFAULT_BATCH = 32;

  private static final Logger log = LoggerFactory.getLogger(Predictor.class);

  /** The optimized network, split at the cut; slots are copies of it. */
  private final Slot prototype;

  private final UnaryOperator<InferenceNetwork> copier;
  private final ModelInfo info;
  private final ImageTransform transform;
  private final int maxConcurrency;
  private final BlockingQueue<Slot> idle;
  private final AtomicInteger created = new AtomicInteger();
  private volatile boolean closed;
  private volatile String closedMessage =
      "predictor is closed (by Predictor.close, or the end of its try-with-resources block):"
          + " make a new one with TransferModel.predictor()";

  /**
   * One network copy: the frozen part (images to the activations at the cut, exactly as training's
   * frozen part computes them) and the head (those activations to probabilities); {@code frozen} is
   * null when the model cannot be split at its cut and {@code head} is then the whole network.
   */
  private record Slot(InferenceNetwork frozen, InferenceNetwork head) {
    Slot copy(UnaryOperator<InferenceNetwork> copier) {
      InferenceNetwork f = frozen == null ? null : copier.apply(frozen);
      try {
        return new Slot(f, copier.apply(head));
      } catch (RuntimeException | Error e) {
        if (f != null) {
          f.close();
        }
        throw e;
      }
    }

    INDArray features(INDArray images) {
      return frozen == null ? images : frozen.output(images)[0];
    }

    void close() {
      if (frozen != null) {
        frozen.close();
      }
      head.close();
    }
  }

  Predictor(ComputationGraph network, ModelInfo info, int maxConcurrency) {
    this(network, info, maxConcurrency, InferenceNetwork::copy);
  }

  /** As above; {@code copier} makes each slot's networks (a test seam for failing copies). */
  Predictor(
      ComputationGraph network,
      ModelInfo info,
      int maxConcurrency,
      UnaryOperator<InferenceNetwork> copier) {
    this.copier = copier;
    if (maxConcurrency < 1) {
      throw new GraftException("maxConcurrency must be >= 1, got " + maxConcurrency);
    }
    this.info = info;
    this.transform = new ImageTransform(info.inputSize(), info.resize(), info.preprocessing());
    this.maxConcurrency = maxConcurrency;
    this.idle = new ArrayBlockingQueue<>(maxConcurrency);
    long t0 = System.nanoTime();
    this.prototype = split(network, info.provenance().cut());
    log.info(
        "inference graph of {} ready in {} ms (cut {})",
        info.baseId(),
        (System.nanoTime() - t0) / 1_000_000,
        prototype.frozen() == null ? "none" : prototype.frozen().outputs());
  }

  /** Marks this as the model's own predictor: used after close, it speaks of the model. */
  Predictor ownedByModel() {
    closedMessage = TransferModel.CLOSED;
    return this;
  }

  /**
   * The network optimized for inference and split where training split it: at the inputs of the
   * head's first layers with parameters (after the {@code cut} and any parameter-free layers such
   * as pooling), the freeze boundary of the frozen and features strategies. The whole network in
   * one part when it has no such layer or cannot be split there.
   */
  private static Slot split(ComputationGraph network, String cut) {
    List<String> boundary = headBoundary(network.getConfiguration(), cut);
    if (!boundary.isEmpty()) {
      InferenceNetwork head = null;
      try {
        head = InferenceNetwork.of(network, boundary, List.of());
        return new Slot(InferenceNetwork.of(network, List.of(), boundary), head);
      } catch (GraftException e) {
        if (head != null) {
          head.close();
        }
        log.debug(
            "cannot split the model at {} ({}); one optimized graph", boundary, e.getMessage());
      }
    }
    return new Slot(null, InferenceNetwork.of(network, List.of(), List.of()));
  }

  /**
   * The vertices feeding the head's trainable layers from below them, as TransferGraph finds them.
   */
  static List<String> headBoundary(ComputationGraphConfiguration conf, String cut) {
    if (cut == null || !conf.getVertices().containsKey(cut)) {
      return List.of();
    }
    Set<String> base = Topology.ancestors(conf, List.of(cut));
    List<String> order = Topology.order(conf);
    Set<String> trainable = new HashSet<>();
    for (String v : order) {
      if (!base.contains(v)
          && conf.getVertices().get(v) instanceof LayerVertex lv
          && lv.getLayerConf().getLayer().initializer().numParams(lv.getLayerConf()) > 0) {
        trainable.add(v);
      }
    }
    Set<String> down = Topology.downstream(conf, order, trainable);
    List<String> boundary = new ArrayList<>();
    for (String v : order) {
      if (down.contains(v)) {
        for (String in : Topology.inputsOf(conf, v)) {
          if (!down.contains(in) && !boundary.contains(in)) {
            boundary.add(in);
          }
        }
      }
    }
    return boundary.stream().anyMatch(conf.getNetworkInputs()::contains) ? List.of() : boundary;
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
   * Same as {@link #predictFiles(List, int)}.
   *
   * @param images the image files
   * @param topK labels per image
   * @return one list per image, most probable first
   * @throws IOException naming the first file that cannot be read or decoded
   * @deprecated use {@link #predictFiles(List, int)}, the batch twin of {@link #predictImages}
   */
  @Deprecated
  public List<List<Prediction>> predictAll(List<Path> images, int topK) throws IOException {
    return predictFiles(images, topK);
  }

  /**
   * Top-k predictions for many image files, in order, computed in batches.
   *
   * @param images the image files
   * @param topK labels per image
   * @return one list per image, most probable first
   * @throws IOException naming the first file that cannot be read or decoded
   */
  public List<List<Prediction>> predictFiles(List<Path> images, int topK) throws IOException {
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
    return probabilities(images, false, progress).probabilities();
  }

  /**
   * Class probabilities of image files read one batch ahead of the network; with {@code
   * skipUnreadable}, Graft's skip policy ({@link SkippedFile}): a file that cannot be read or
   * decoded is left out with one warning naming it.
   *
   * @param progress called with the number of files handled after each batch; may be null
   * @throws IOException naming the first file that cannot be read, unless such files are skipped
   */
  public FileProbabilities probabilities(
      List<Path> images, boolean skipUnreadable, IntConsumer progress) throws IOException {
    List<Path> read = new ArrayList<>(images.size());
    List<float[]> rows = new ArrayList<>(images.size());
    List<SkippedFile> skipped = new ArrayList<>();
    try (DecodedBatches batches =
        new DecodedBatches(images, DEFAULT_BATCH, transform, skipUnreadable)) {
      for (DecodedBatches.Decoded b = batches.nextImages(); b != null; b = batches.nextImages()) {
        b.skipped().forEach(s -> skipped.add(s.warn(log)));
        if (b.tensor() != null) {
          rows.addAll(List.of(run(b.tensor())));
          read.addAll(b.files());
        }
        if (progress != null) {
          progress.accept(batches.delivered());
        }
      }
    }
    return new FileProbabilities(read, rows.toArray(float[][]::new), skipped);
  }

  /**
   * Class probabilities of the image files that could be read.
   *
   * @param files the files read, in the order given
   * @param probabilities their probabilities, {@code [files][classes]}
   * @param skipped the files left out, with why
   */
  public record FileProbabilities(
      List<Path> files, float[][] probabilities, List<SkippedFile> skipped) {}

  /** Class probabilities for a preprocessed batch {@code [N, 3, s, s]} ({@code [N][classes]}). */
  public float[][] probabilities(INDArray batch) {
    return run(batch);
  }

  /**
   * The activations at the model's freeze boundary (the cut, pooled when the head pools) for a
   * preprocessed batch {@code [N, 3, s, s]}: the features its head's trained layers read, computed
   * by the same optimized graph as training's frozen part (so equal to what the head was trained
   * on). The input itself when the model has no cut.
   */
  public INDArray features(INDArray batch) {
    Slot slot = acquire();
    try {
      return slot.features(batch.castTo(DataType.FLOAT));
    } finally {
      idle.offer(slot);
    }
  }

  private float[][] run(INDArray input) {
    Slot slot = acquire();
    try {
      INDArray out = slot.head().output(slot.features(input.castTo(DataType.FLOAT)))[0];
      int n = (int) out.size(0);
      float[][] rows = new float[n][];
      for (int i = 0; i < n; i++) {
        rows[i] = out.getRow(i).dup().toFloatVector();
      }
      return rows;
    } finally {
      idle.offer(slot);
    }
  }

  private Slot acquire() {
    if (closed) {
      throw new IllegalStateException(closedMessage);
    }
    Slot slot = idle.poll();
    if (slot != null) {
      return slot;
    }
    while (true) {
      int n = created.get();
      if (n >= maxConcurrency) {
        break;
      }
      if (created.compareAndSet(n, n + 1)) {
        try {
          synchronized (prototype) {
            return prototype.copy(copier);
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
    Slot s;
    while ((s = idle.poll()) != null) {
      s.close();
    }
    synchronized (prototype) {
      prototype.close();
    }
  }
}
