package dev.graft.features;

import dev.graft.error.GraftException;
import dev.graft.graph.GraphWorkspaces;
import dev.graft.graph.InferenceGraphs;
import dev.graft.perf.NativeTuning;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way Graft runs a network forward: a part of a graph (between named inputs and outputs)
 * rewritten by {@link InferenceGraphs#optimize} (BatchNorm folded, activations fused, oneDNN layer
 * helpers where they work), run in chunks small enough for a memory budget. Training's frozen part,
 * the {@link Featurizer}, the predictor and the Spark transformers all go through it, so a head is
 * served with the same numbers it was trained on.
 *
 * <p>Memory: a forward pass holds a batch's activations and, for each convolution, an im2col buffer
 * ({@code in-channels × kernel × output pixels} floats per image: 110 MB per image for VGG16's
 * second convolution at 224 px). The network's activation sizes are read from its configuration and
 * a batch is split into chunks whose estimate fits {@link #budgetBytes()} (system property {@value
 * #BUDGET_PROPERTY}, in MiB, default {@value #DEFAULT_BUDGET_MIB}); after a chunked pass the
 * thread's ND4J workspaces are released, so the memory they grew to does not stay resident.
 *
 * <pre>{@code
 * try (InferenceNetwork frozen = InferenceNetwork.of(base.graph(), List.of(), List.of("fc1"))) {
 *   INDArray features = frozen.output(images)[0];
 * }
 * }</pre>
 *
 * <p>Not thread-safe (DL4J networks are not): give each thread its own {@link #copy()}.
 */
public final class InferenceNetwork implements AutoCloseable {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  private static final Logger log = LoggerFactory.getLogger(InferenceNetwork.class);

  /** System property: the memory budget of one forward pass, in MiB. */
  public static final String BUDGET_PROPERTY = "graft.inference.memory.mb";

  /**
   * Version of the numbers this class computes: part of every feature cache key, so that entries
   * computed by an older inference path are never served. Bump it whenever a change to {@link
   * InferenceGraphs} or to this class can change an output bit.
   */
  public static final int NUMERIC_VERSION = 2;

  /** Default memory budget of one forward pass, in MiB. */
  public static final int DEFAULT_BUDGET_MIB = 768;

  private final ComputationGraph graph;
  private final Map<String, Long> bytesPerExample;
  private final SharedParameters parameters;
  private boolean closed;

  private InferenceNetwork(
      ComputationGraph graph, Map<String, Long> bytesPerExample, SharedParameters parameters) {
    this.graph = graph;
    this.bytesPerExample = bytesPerExample;
    this.parameters = parameters;
  }

  /**
   * The one parameter array that a network and its copies read, freed with its graph when the last
   * of them closes: a copy closed first must not free what the others still read, and one in use
   * when its owner closes must not read freed memory.
   */
  private static final class SharedParameters {
    private final ComputationGraph owner;
    private int open = 1;

    SharedParameters(ComputationGraph owner) {
      this.owner = owner;
    }

    synchronized void retain() {
      open++;
    }

    synchronized void release() {
      if (--open == 0) {
        owner.close();
      }
    }
  }

  /**
   * The optimized copy of the part of {@code network} between {@code inputs} and {@code outputs}.
   *
   * @param network the source (not modified; it may hold frozen-layer wrappers)
   * @param inputs vertex names the part reads; empty for the network's own inputs (images)
   * @param outputs vertex names the part outputs, in order; empty for the network's outputs
   * @return the network, owned by the caller
   * @throws GraftException naming a vertex that does not exist
   */
  public static InferenceNetwork of(
      ComputationGraph network, List<String> inputs, List<String> outputs) {
    ComputationGraph g = InferenceGraphs.optimize(network, inputs, outputs);
    return new InferenceNetwork(g, new ConcurrentHashMap<>(), new SharedParameters(g));
  }

  /**
   * A copy for another thread: its own layers and buffers over the same parameters (a forward pass
   * only reads them), so a copy costs no parameter memory. The parameters are freed when the last
   * of the network and its copies is closed.
   */
  public synchronized InferenceNetwork copy() {
    ensureOpen();
    parameters.retain();
    try {
      // within the layer-helper scope, as InferenceGraphs built the original: a copy made outside
      // it would run without the oneDNN helpers, another numeric path. Not graph.clone(): that
      // duplicates the parameters and makes an optimizer's state and gradients for them too.
      ComputationGraph c =
          NativeTuning.withLayerHelpers(
              () -> {
                ComputationGraph g =
                    GraphWorkspaces.settleInFirstPass(
                        new ComputationGraph(graph.getConfiguration().clone()));
                g.init(graph.params(), false);
                return g;
              });
      return new InferenceNetwork(c, bytesPerExample, parameters);
    } catch (RuntimeException | Error e) {
      parameters.release();
      throw e;
    }
  }

  /** The optimized graph (not thread-safe). */
  public ComputationGraph graph() {
    return graph;
  }

  /** The names of the outputs, in the order {@link #output} returns them. */
  public List<String> outputs() {
    return graph.getConfiguration().getNetworkOutputs();
  }

  /** The memory budget of one forward pass, in bytes. */
  public static long budgetBytes() {
    long mib = DEFAULT_BUDGET_MIB;
    String v = System.getProperty(BUDGET_PROPERTY);
    if (v != null && !v.isBlank()) {
      try {
        mib = Long.parseLong(v.trim());
      } catch (NumberFormatException e) {
        throw new GraftException(
            "system property " + BUDGET_PROPERTY + " must be a number of MiB, got '" + v + "'");
      }
      if (mib < 1) {
        throw new GraftException(
            "system property " + BUDGET_PROPERTY + " must be at least 1 MiB, got " + mib);
      }
    }
    return mib << 20;
  }

  /**
   * Runs the network in inference mode.
   *
   * @param inputs one array per network input, first dimension N (the same for all)
   * @return one float array per output, first dimension N, detached from every workspace
   */
  public synchronized INDArray[] output(INDArray... inputs) {
    ensureOpen();
    long n = inputs[0].size(0);
    int chunk = chunkSize(inputs);
    if (chunk >= n) {
      return detached(graph.output(false, inputs));
    }
    INDArray[][] parts = new INDArray[(int) ((n + chunk - 1) / chunk)][];
    for (int c = 0; c < parts.length; c++) {
      long from = (long) c * chunk;
      long to = Math.min(n, from + chunk);
      INDArray[] in = new INDArray[inputs.length];
      for (int i = 0; i < in.length; i++) {
        in[i] = inputs[i].get(NDArrayIndex.interval(from, to)).dup('c');
      }
      parts[c] = detached(graph.output(false, in));
    }
    INDArray[] out = new INDArray[parts[0].length];
    for (int o = 0; o < out.length; o++) {
      INDArray[] pieces = new INDArray[parts.length];
      for (int c = 0; c < parts.length; c++) {
        pieces[c] = parts[c][o];
      }
      out[o] = Nd4j.concat(0, pieces);
    }
    releaseWorkspaces();
    return out;
  }

  /**
   * Images (or examples) per forward pass for inputs shaped like {@code inputs}: as many as the
   * memory budget allows, at least 1.
   */
  public int chunkSize(INDArray... inputs) {
    long n = inputs[0].size(0);
    long per = bytesPerExample.computeIfAbsent(shapeKey(inputs), k -> estimate(inputs));
    if (per <= 0) {
      return (int) Math.max(1, n);
    }
    return (int) Math.max(1, Math.min(n, budgetBytes() / per));
  }

  /**
   * Closes this network; the parameters' native memory is released when the last of the network and
   * its {@link #copy() copies} is closed. Closing twice is safe.
   */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      parameters.release();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("inference network is closed");
    }
  }

  private static INDArray[] detached(INDArray[] out) {
    INDArray[] d = new INDArray[out.length];
    for (int i = 0; i < out.length; i++) {
      INDArray a = out[i].isAttached() ? out[i].detach() : out[i];
      d[i] = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
    }
    return d;
  }

  /**
   * Frees the workspaces the chunked pass grew, unless the caller has a workspace open (then arrays
   * of theirs may live in one).
   */
  private static void releaseWorkspaces() {
    if (Nd4j.getMemoryManager().getCurrentWorkspace() == null) {
      Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }
  }

  private static String shapeKey(INDArray[] inputs) {
    StringBuilder sb = new StringBuilder();
    for (INDArray a : inputs) {
      long[] s = a.shape();
      sb.append(Arrays.toString(Arrays.copyOfRange(s, 1, s.length))).append(';');
    }
    return sb.toString();
  }

  /**
   * Estimated bytes of one example's forward pass: every activation (an upper bound on what is
   * alive at once) plus the largest single layer's input, output and im2col buffer. Zero when the
   * configuration cannot say (then the batch is not split).
   */
  private long estimate(INDArray[] inputs) {
    try {
      ComputationGraphConfiguration conf = graph.getConfiguration().clone();
      InputType[] types = new InputType[inputs.length];
      for (int i = 0; i < inputs.length; i++) {
        long[] s = inputs[i].shape();
        types[i] =
            s.length == 4
                ? InputType.convolutional(s[2], s[3], s[1])
                : InputType.feedForward(inputs[i].length() / Math.max(1, s[0]));
      }
      Map<String, InputType> acts = conf.getLayerActivationTypes(false, false, types);
      long all = 0;
      long worst = 0;
      for (Map.Entry<String, InputType> e : acts.entrySet()) {
        long out = e.getValue().arrayElementsPerExample();
        all += out;
        GraphVertex v = conf.getVertices().get(e.getKey());
        if (!(v instanceof LayerVertex lv)) {
          continue;
        }
        long in = 0;
        for (String i : conf.getVertexInputs().get(e.getKey())) {
          in += acts.get(i).arrayElementsPerExample();
        }
        long im2col = 0;
        if (lv.getLayerConf().getLayer() instanceof ConvolutionLayer c
            && e.getValue() instanceof InputType.InputTypeConvolutional o) {
          long[] k = c.getKernelSize() == null ? new long[] {1, 1} : toLong(c.getKernelSize());
          im2col = c.getNIn() * k[0] * k[1] * o.getHeight() * o.getWidth();
        }
        worst = Math.max(worst, in + out + im2col);
      }
      long bytes = 4L * (all + worst);
      log.debug("forward pass of {}: about {} MB per example", outputs(), bytes >> 20);
      return bytes;
    } catch (RuntimeException e) {
      log.debug("cannot estimate the memory of a forward pass: {}", e.toString());
      return 0;
    }
  }

  private static long[] toLong(int[] a) {
    long[] l = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      l[i] = a[i];
    }
    return l;
  }
}
