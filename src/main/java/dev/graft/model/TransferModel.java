package dev.graft.model;

import dev.graft.data.ImageDataset;
import dev.graft.error.GraftException;
import dev.graft.metrics.ClassificationReport;
import dev.graft.perf.NativeTuning;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A trained transfer-learning model: the network (preprocessed images {@code [N, 3, s, s]} in,
 * softmax {@code [N, classes]} out) and its {@link ModelInfo}. Save it as one {@code .graft} file,
 * load it anywhere, predict.
 *
 * <pre>{@code
 * model.save(Path.of("digits.graft"));
 * TransferModel loaded = TransferModel.load(Path.of("digits.graft"));
 * List<Prediction> top = loaded.predict(Path.of("seven.png"), 3);
 * ClassificationReport r = loaded.evaluate(ImageFolder.of(Path.of("test")));
 * }</pre>
 *
 * <p>The network is not thread-safe; {@link #predict} and {@link #evaluate} are (they share a
 * predictor the model owns), and {@link #predictor()} gives the caller a thread-safe predictor of
 * its own to close when done. The model holds native memory: close it (try-with-resources) when
 * done.
 */
public final class TransferModel implements AutoCloseable {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  private final ComputationGraph network;
  private final ModelInfo info;

  /** Shared by the copies {@link #withInfo} makes, which share the network. */
  private final AtomicBoolean networkClosed;

  private volatile Predictor shared;

  /**
   * @param network images {@code [N, 3, s, s]} preprocessed → softmax {@code [N, classes]}
   * @param info the model's description; its label count must match the network's outputs
   * @throws GraftException if the label count and the network's output size differ
   */
  public TransferModel(ComputationGraph network, ModelInfo info) {
    this(network, info, new AtomicBoolean());
  }

  private TransferModel(ComputationGraph network, ModelInfo info, AtomicBoolean networkClosed) {
    if (network == null || info == null) {
      throw new GraftException("network and info are required");
    }
    long outputs = ModelFile.outputSize(network);
    if (outputs > 0 && outputs != info.numClasses()) {
      throw new GraftException(
          "the network has "
              + outputs
              + " outputs but "
              + info.numClasses()
              + " labels were given: "
              + info.labels());
    }
    this.network = network;
    this.info = info;
    this.networkClosed = networkClosed;
  }

  /** The network (not thread-safe: use {@link #predictor()} to share). */
  public ComputationGraph network() {
    return network;
  }

  /** The model's description. */
  public ModelInfo info() {
    return info;
  }

  /** Class labels in output order. */
  public List<String> labels() {
    return info.labels();
  }

  /** Writes the model to a {@code .graft} file, atomically (see {@link ModelFile}). */
  public void save(Path file) throws IOException {
    ModelFile.write(file, network, info);
  }

  /**
   * Reads a {@code .graft} file.
   *
   * @throws ModelFileException naming the file and the problem if it is not a valid model file
   * @throws IOException if it cannot be read
   */
  public static TransferModel load(Path file) throws IOException {
    return ModelFile.read(file);
  }

  /** A copy of this model with a different description (same network). */
  public TransferModel withInfo(ModelInfo newInfo) {
    return new TransferModel(network, newInfo, networkClosed);
  }

  /**
   * A new thread-safe predictor owned by the caller, with up to {@code min(4, availableProcessors)}
   * network clones made on demand. Close it when done (try-with-resources): that releases its
   * clones and leaves this model usable.
   */
  public Predictor predictor() {
    requireOpen();
    return new Predictor(network, info, defaultConcurrency());
  }

  /** A new predictor, owned by the caller, with at most {@code maxConcurrency} network clones. */
  public Predictor predictor(int maxConcurrency) {
    requireOpen();
    return new Predictor(network, info, maxConcurrency);
  }

  /** What a closed model says when it is used. */
  static final String CLOSED =
      "model is closed (TransferModel.close, or the end of its try-with-resources block): load it"
          + " again with TransferModel.load";

  private void requireOpen() {
    if (networkClosed.get()) {
      throw new IllegalStateException(CLOSED);
    }
  }

  private static int defaultConcurrency() {
    return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * The predictor behind {@link #predict} and {@link #evaluate}: owned here, closed by {@link
   * #close}.
   */
  private Predictor shared() {
    Predictor p = shared;
    if (p == null) {
      synchronized (this) {
        p = shared;
        if (p == null) {
          requireOpen();
          p = new Predictor(network, info, defaultConcurrency()).ownedByModel();
          shared = p;
        }
      }
    }
    return p;
  }

  /** The top {@code topK} labels for an image file. */
  public List<Prediction> predict(Path image, int topK) throws IOException {
    return shared().predict(image, topK);
  }

  /** Evaluates on a labelled dataset; see {@link #evaluate(ImageDataset, IntConsumer)}. */
  public ClassificationReport evaluate(ImageDataset data) throws IOException {
    return evaluate(data, null);
  }

  /**
   * Evaluates on a labelled dataset. The dataset's classes are matched to the model's by name, so a
   * test folder may hold a subset of the classes, in any order.
   *
   * @param progress called with the number of images done after each batch; may be null
   * @throws GraftException naming the class if the dataset has a class the model does not know
   * @throws IOException naming the file if an image cannot be read
   */
  public ClassificationReport evaluate(ImageDataset data, IntConsumer progress) throws IOException {
    LabelledFiles lf = LabelledFiles.of(data, labels());
    float[][] probs = shared().probabilities(lf.files(), progress);
    return ClassificationReport.of(labels(), lf.actual(), probs);
  }

  /**
   * Releases the native memory of the network and of the predictor behind {@link #predict} and
   * {@link #evaluate} (predictors handed out by {@link #predictor()} are their callers' to close).
   * Safe to call more than once, and on several {@link #withInfo} copies of one model (the shared
   * network is released once). The model must not be used afterwards.
   */
  @Override
  public void close() {
    Predictor p = shared;
    if (p != null) {
      p.close();
    }
    if (networkClosed.compareAndSet(false, true)) {
      network.close();
    }
  }
}
