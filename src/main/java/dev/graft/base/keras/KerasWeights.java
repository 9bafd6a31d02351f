package dev.graft.base.keras;

import static dev.graft.graph.Layers.unwrap;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads Keras HDF5 weight files (the Keras Applications ImageNet files, and any {@code
 * model.save_weights("x.h5")} of Keras 2) into a DL4J {@link ComputationGraph}, layer by layer
 * <em>by name</em>.
 *
 * <p>The format: the root attribute {@code layer_names} lists every layer in model order; each
 * layer has a group of its name whose attribute {@code weight_names} lists its weights (empty for
 * layers without weights), each a float32 dataset at {@code <layer>/<weight name>}, for example
 * {@code conv2d_1/conv2d_1/kernel:0}. Keras 1 names ({@code convolution2d_1_W}, {@code _b}, {@code
 * _running_mean}, …) and whole-model files (weights under {@code model_weights}) are read too.
 *
 * <p>Layouts converted:
 *
 * <ul>
 *   <li>convolution kernels: Keras {@code [kh, kw, in, out]} ↔ DL4J {@code [out, in, kh, kw]};
 *       biases {@code [out]} (a Keras convolution without bias loads into a DL4J one with a zero
 *       bias);
 *   <li>dense kernels: {@code [in, out]} in both; after a flatten of NCHW activations the rows are
 *       reordered, since Keras flattens (h, w, c) and DL4J (c, h, w);
 *   <li>batch normalisation: {@code gamma} (1 when Keras has {@code scale=False}), {@code beta},
 *       {@code moving_mean}, {@code moving_variance} (DL4J's log10 standard deviation when the
 *       layer stores that). The weight file does not record Keras's epsilon; it is Keras's default
 *       1e-3, or 1.001e-5 for tf.keras's ResNet names, and loading sets the DL4J layer's epsilon to
 *       it so that the graph computes exactly what Keras computes.
 * </ul>
 *
 * <p>Every layer with parameters in the graph must find its weights in the file and every shape
 * must match; a file layer without a counterpart in the graph fails too, except the classifier top
 * of a file read into a graph without one (layers after every matched layer, in the file's order)
 * under {@link Match#IGNORE_TOP}. Every such failure is a {@link GraftException} naming the layer
 * and the file, raised before any weight of the graph is changed.
 *
 * <pre>{@code
 * ComputationGraph net = InceptionV3.build(299, 42);
 * KerasWeights.load(net, Path.of("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"));
 * }</pre>
 *
 * <p>Why one class of this size: reading the HDF5 groups, matching Keras names to graph layers and
 * converting each layout (channels-last kernels, BatchNorm statistics) are one pass over the file
 * that reports the first mismatch with its layer name (the writer tests use to make real files is
 * test code, {@code KerasWeightsWriter}).
 */
public final class KerasWeights {
  private static final Logger LOG = LoggerFactory.getLogger(KerasWeights.class);

  /** Written as the {@code backend} attribute. */
  static final String BACKEND = "tensorflow";

  /** Written as the {@code keras_version} attribute: the last Keras of keras-applications. */
  static final String KERAS_VERSION = "2.2.4";

  static final String KERNEL = "kernel";
  static final String BIAS = "bias";
  static final String GAMMA = "gamma";
  static final String BETA = "beta";
  static final String MEAN = "moving_mean";
  static final String VARIANCE = "moving_variance";
  static final String DEPTHWISE_KERNEL = "depthwise_kernel";
  private static final String NORM_MEAN = "mean";
  private static final String NORM_VARIANCE = "variance";
  private static final String NORM_COUNT = "count";

  /** How strictly file layers must match graph layers. */
  public enum Match {
    /** Every layer with weights in the file must exist in the graph, and the other way round. */
    EXACT,
    /**
     * As {@link #EXACT}, except that file layers after every matched layer (a classifier top the
     * graph was built without, such as {@code predictions} or {@code fc1000}) are skipped.
     */
    IGNORE_TOP
  }

  private KerasWeights() {}

  /**
   * Loads a Keras weights file into {@code graph} by layer name, skipping a classifier top the
   * graph does not have ({@link Match#IGNORE_TOP}).
   *
   * @throws IOException the file cannot be read (missing, truncated, not HDF5)
   * @throws GraftException the file does not fit the graph (names the layer)
   */
  public static void load(ComputationGraph graph, Path h5) throws IOException {
    load(graph, h5, Match.IGNORE_TOP);
  }

  /**
   * Loads a Keras weights file into {@code graph} by layer name.
   *
   * @param graph an initialised graph whose layers carry Keras's names
   * @param h5 the Keras {@code .h5} weights file
   * @param match how strictly the file's layers must match the graph's
   * @throws IOException the file cannot be read (missing, truncated, not HDF5)
   * @throws GraftException the file does not fit the graph: a graph layer without weights in the
   *     file, a file layer without a layer in the graph, a shape or layer type that differs; the
   *     graph is left unchanged
   */
  public static void load(ComputationGraph graph, Path h5, Match match) throws IOException {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(match, "match");
    if (!Files.isRegularFile(Objects.requireNonNull(h5, "h5"))) {
      throw new NoSuchFileException(h5.toString(), null, "no Keras weights file there");
    }
    if (graph.getVertices() == null) {
      throw new GraftException("the graph must be initialised (graph.init()) before loading " + h5);
    }
    long start = System.nanoTime();
    try (H5 file = H5.openRead(h5)) {
      List<FileLayer> layers = readStructure(file, h5);
      List<Binding> plan = plan(graph, layers, match, h5);
      long count = 0;
      for (Binding b : plan) {
        count += b.assign(file);
      }
      LOG.info(
          "Loaded {} Keras weights of {} layers from {} in {} ms",
          count,
          plan.size(),
          h5,
          (System.nanoTime() - start) / 1_000_000);
    }
  }

  /**
   * The names of the layers with weights in a Keras weights file, in the file's order.
   *
   * @throws IOException the file cannot be read
   */
  public static List<String> layersWithWeights(Path h5) throws IOException {
    try (H5 file = H5.openRead(h5)) {
      List<String> out = new ArrayList<>();
      for (FileLayer l : readStructure(file, h5)) {
        if (!l.weights().isEmpty()) {
          out.add(l.name());
        }
      }
      return out;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // reading

  /** One weight of a file layer: its Keras name, role (kernel, bias, …), dataset and shape. */
  private record FileWeight(String name, String role, String dataset, long[] shape) {}

  /** One layer of the file, at position {@code index} of {@code layer_names}. */
  private record FileLayer(String name, int index, List<FileWeight> weights) {}

  private static List<FileLayer> readStructure(H5 file, Path h5) throws IOException {
    String root = "";
    List<String> names = file.stringList("", "layer_names");
    if (names == null && file.exists("model_weights")) {
      root = "model_weights"; // a whole-model file written by model.save()
      names = file.stringList(root, "layer_names");
    }
    if (names == null) {
      throw new GraftException(
          "not a Keras weights file: " + h5 + " has no 'layer_names' attribute at its root");
    }
    List<FileLayer> layers = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String group = root.isEmpty() ? name : root + "/" + name;
      if (!file.exists(group)) {
        throw new GraftException(
            "corrupt Keras weights file "
                + h5
                + ": layer '"
                + name
                + "' is listed but has no group");
      }
      List<String> weightNames = file.stringList(group, "weight_names");
      if (weightNames == null) {
        throw new GraftException(
            "corrupt Keras weights file "
                + h5
                + ": layer '"
                + name
                + "' has no 'weight_names' attribute");
      }
      List<FileWeight> weights = new ArrayList<>();
      for (String w : weightNames) {
        String role = role(w);
        if (role == null) {
          throw new GraftException(
              "Keras weights file "
                  + h5
                  + ": layer '"
                  + name
                  + "' has a weight '"
                  + w
                  + "' of unknown kind (expected kernel, depthwise_kernel, bias, gamma, beta,"
                  + " moving_mean, moving_variance, or a Normalization's mean, variance and"
                  + " count)");
        }
        String dataset = group + "/" + w;
        if (!file.exists(dataset)) {
          throw new GraftException(
              "corrupt Keras weights file "
                  + h5
                  + ": layer '"
                  + name
                  + "' lists weight '"
                  + w
                  + "' but the file has no dataset "
                  + dataset);
        }
        weights.add(new FileWeight(w, role, dataset, file.shape(dataset)));
      }
      layers.add(new FileLayer(name, i, weights));
    }
    return layers;
  }

  /**
   * The kind of a Keras weight from its name (Keras 2 {@code conv2d_1/kernel:0}, Keras 1 {@code
   * _W}).
   */
  static String role(String weightName) {
    String n = weightName;
    int slash = n.lastIndexOf('/');
    if (slash >= 0) {
      n = n.substring(slash + 1);
    }
    int colon = n.indexOf(':');
    if (colon >= 0) {
      n = n.substring(0, colon);
    }
    switch (n) {
      case KERNEL, BIAS, GAMMA, BETA, MEAN, VARIANCE, DEPTHWISE_KERNEL:
        return n;
      case NORM_MEAN, NORM_VARIANCE, NORM_COUNT:
        return n; // Keras's Normalization layer (EfficientNet's input)
      case "pointwise_kernel":
        return null;
      default:
        break;
    }
    if (n.endsWith("_running_mean")) {
      return MEAN;
    }
    if (n.endsWith("_running_std")) {
      return VARIANCE; // Keras 1 stored the variance under this name
    }
    if (n.endsWith("_gamma")) {
      return GAMMA;
    }
    if (n.endsWith("_beta")) {
      return BETA;
    }
    if (n.endsWith("_W")) {
      return KERNEL;
    }
    if (n.endsWith("_b")) {
      return BIAS;
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // matching

  /** A file layer bound to a graph layer, with its weights checked against the layer's shapes. */
  private record Binding(
      FileLayer file,
      String graphName,
      Kind kind,
      Layer layer,
      Map<String, FileWeight> weights,
      long[] flatten) {

    /**
     * Copies the bias, or zeroes it when the file has none (Keras's use_bias=False); returns values
     * read.
     */
    private long assignBias(H5 h5) throws IOException {
      INDArray b = layer.getParam(DefaultParamInitializer.BIAS_KEY);
      if (b == null) {
        return 0;
      }
      FileWeight fb = weights.get(BIAS);
      if (fb == null) {
        b.assign(0);
        return 0;
      }
      b.assign(read(h5, fb).reshape(b.shape()));
      return b.length();
    }

    long assign(H5 h5) throws IOException {
      long n = 0;
      switch (kind) {
        case CONV -> {
          INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
          FileWeight k = weights.get(KERNEL);
          w.assign(read(h5, k).permute(3, 2, 0, 1));
          n += w.length();
          n += assignBias(h5);
        }
        case DEPTHWISE -> {
          // DL4J keeps Keras's layout: [kh, kw, in, multiplier]
          INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
          w.assign(read(h5, weights.get(DEPTHWISE_KERNEL)));
          n += w.length();
          n += assignBias(h5);
        }
        case DENSE -> {
          INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
          INDArray k = read(h5, weights.get(KERNEL));
          if (flatten != null) {
            // Keras rows are (h, w, c); DL4J's flatten of NCHW is (c, h, w).
            long h = flatten[0];
            long wd = flatten[1];
            long c = flatten[2];
            long out = k.size(1);
            k =
                k.reshape('c', h, wd, c, out)
                    .permute(2, 0, 1, 3)
                    .dup('c')
                    .reshape('c', c * h * wd, out);
          }
          w.assign(k);
          n += w.length();
          n += assignBias(h5);
        }
        case BATCH_NORM -> {
          BatchNormalization conf = batchNorm(layer);
          double eps = KerasNames.epsilon(file.name());
          if (conf.getEps() != eps) {
            LOG.debug("{}: epsilon {} set to Keras's {}", graphName, conf.getEps(), eps);
            conf.setEps(eps);
          }
          if (!conf.isLockGammaBeta()) {
            INDArray gamma = layer.getParam(BatchNormalizationParamInitializer.GAMMA);
            FileWeight g = weights.get(GAMMA);
            gamma.assign(
                g == null
                    ? Nd4j.ones(gamma.dataType(), gamma.shape())
                    : read(h5, g).reshape(gamma.shape()));
            INDArray beta = layer.getParam(BatchNormalizationParamInitializer.BETA);
            FileWeight bt = weights.get(BETA);
            if (bt == null) {
              beta.assign(0);
            } else {
              beta.assign(read(h5, bt).reshape(beta.shape()));
            }
            n += (g == null ? 0 : gamma.length()) + (bt == null ? 0 : beta.length());
          }
          INDArray mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
          mean.assign(read(h5, weights.get(MEAN)).reshape(mean.shape()));
          INDArray var = read(h5, weights.get(VARIANCE));
          if (conf.isUseLogStd()) {
            INDArray log10std = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
            log10std.assign(Transforms.log(var, 10.0, true).muli(0.5).reshape(log10std.shape()));
          } else {
            INDArray v = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
            v.assign(var.reshape(v.shape()));
          }
          n += 2 * mean.length();
        }
        default -> throw new IllegalStateException(kind.toString());
      }
      return n;
    }
  }

  enum Kind {
    CONV,
    DEPTHWISE,
    DENSE,
    BATCH_NORM
  }

  private static INDArray read(H5 h5, FileWeight w) throws IOException {
    return h5.read(w.dataset());
  }

  private static List<Binding> plan(
      ComputationGraph graph, List<FileLayer> layers, Match match, Path h5) {
    Map<String, GraphVertex> weighted = new LinkedHashMap<>();
    Set<String> allNames = new HashSet<>();
    for (GraphVertex v : graph.getVertices()) {
      allNames.add(v.getVertexName());
      if (v.hasLayer() && v.getLayer().numParams() > 0) {
        weighted.put(v.getVertexName(), v);
      }
    }
    List<String> fileWeighted = new ArrayList<>();
    for (FileLayer fl : layers) {
      if (!fl.weights().isEmpty() && !isNormalization(fl)) {
        fileWeighted.add(fl.name());
      }
    }
    Map<String, String> renumbered = KerasNames.renumbered(fileWeighted, weighted.keySet());
    if (!renumbered.isEmpty()) {
      LOG.info(
          "{}: {} auto-named layers numbered from elsewhere than the graph's, matched by"
              + " number (for example {})",
          h5,
          renumbered.size(),
          renumbered.entrySet().iterator().next());
    }
    List<Binding> plan = new ArrayList<>();
    Map<String, String> boundBy = new HashMap<>();
    List<FileLayer> unmatched = new ArrayList<>();
    int lastMatched = -1;
    for (FileLayer fl : layers) {
      if (fl.weights().isEmpty()) {
        continue;
      }
      if (isNormalization(fl) && !weighted.containsKey(fl.name())) {
        // preprocessing in Graft; BaseBuilder checks its values (inputNormalization)
        LOG.info(
            "{}: Normalization layer '{}' is applied as preprocessing, not loaded", h5, fl.name());
        continue;
      }
      String target = null;
      String renamed = renumbered.get(fl.name());
      List<String> candidates =
          renamed == null
              ? KerasNames.graphCandidates(fl.name())
              : renamed.isEmpty() ? List.of() : List.of(renamed);
      for (String candidate : candidates) {
        if (weighted.containsKey(candidate)) {
          target = candidate;
          break;
        }
        if (allNames.contains(candidate)) {
          throw new GraftException(
              "Keras weights file "
                  + h5
                  + " has weights for layer '"
                  + fl.name()
                  + "' but the graph's layer '"
                  + candidate
                  + "' has no parameters");
        }
      }
      if (target == null) {
        unmatched.add(fl);
        continue;
      }
      String previous = boundBy.put(target, fl.name());
      if (previous != null) {
        throw new GraftException(
            "Keras weights file "
                + h5
                + " has two layers for the graph's layer '"
                + target
                + "': '"
                + previous
                + "' and '"
                + fl.name()
                + "'");
      }
      lastMatched = Math.max(lastMatched, fl.index());
      plan.add(bind(graph, fl, weighted.get(target), h5));
    }
    List<String> missing = new ArrayList<>();
    for (String name : weighted.keySet()) {
      if (!boundBy.containsKey(name)) {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      List<String> fileNames = new ArrayList<>();
      unmatched.forEach(l -> fileNames.add(l.name()));
      throw new GraftException(
          "Keras weights file "
              + h5
              + " does not fit the graph: graph layer '"
              + missing.get(0)
              + "' has no weights in the file"
              + more(missing)
              + (fileNames.isEmpty()
                  ? ""
                  : "; file layers without a graph layer: " + list(fileNames))
              + " (a file for another architecture, or for another cut of this one?)");
    }
    List<String> extra = new ArrayList<>();
    List<String> top = new ArrayList<>();
    for (FileLayer fl : unmatched) {
      if (match == Match.IGNORE_TOP && fl.index() > lastMatched) {
        top.add(fl.name());
      } else {
        extra.add(fl.name());
      }
    }
    if (!extra.isEmpty()) {
      throw new GraftException(
          "Keras weights file "
              + h5
              + " does not fit the graph: file layer '"
              + extra.get(0)
              + "' has no layer in the graph"
              + more(extra)
              + (match == Match.EXACT ? " (Match.EXACT)" : ""));
    }
    if (!top.isEmpty()) {
      LOG.info(
          "Skipping {} top layer(s) of {} that the graph does not have: {}", top.size(), h5, top);
    }
    return plan;
  }

  /** A Keras {@code Normalization} layer: weights mean and variance (and count), nothing else. */
  private static boolean isNormalization(FileLayer fl) {
    Set<String> roles = new HashSet<>();
    fl.weights().forEach(w -> roles.add(w.role()));
    return roles.contains(NORM_MEAN)
        && roles.contains(NORM_VARIANCE)
        && Set.of(NORM_MEAN, NORM_VARIANCE, NORM_COUNT).containsAll(roles);
  }

  /**
   * The input normalisation a Keras model holds as weights (EfficientNet's {@code Normalization}
   * layer: {@code (x - mean) / sqrt(variance)} per channel), or empty when the file has none.
   *
   * @param layer the Keras layer name
   * @param mean per-channel mean
   * @param variance per-channel variance as stored
   */
  public record InputNormalization(String layer, float[] mean, float[] variance) {}

  /**
   * The first Keras {@code Normalization} layer of a weights file, if any.
   *
   * @throws IOException the file cannot be read
   */
  public static java.util.Optional<InputNormalization> inputNormalization(Path h5)
      throws IOException {
    try (H5 file = H5.openRead(h5)) {
      for (FileLayer l : readStructure(file, h5)) {
        if (isNormalization(l)) {
          float[] mean = null;
          float[] variance = null;
          for (FileWeight w : l.weights()) {
            if (w.role().equals(NORM_MEAN)) {
              mean = floats(read(file, w));
            } else if (w.role().equals(NORM_VARIANCE)) {
              variance = floats(read(file, w));
            }
          }
          return java.util.Optional.of(new InputNormalization(l.name(), mean, variance));
        }
      }
    }
    return java.util.Optional.empty();
  }

  private static String more(List<String> names) {
    return names.size() > 1
        ? " (and " + (names.size() - 1) + " more: " + list(names.subList(1, names.size())) + ")"
        : "";
  }

  private static String list(List<String> names) {
    if (names.size() <= 6) {
      return String.join(", ", names);
    }
    return String.join(", ", names.subList(0, 6)) + ", …";
  }

  private static BatchNormalization batchNorm(Layer layer) {
    return (BatchNormalization) unwrap(layer.conf().getLayer());
  }

  static Kind kindOf(org.deeplearning4j.nn.conf.layers.Layer conf) {
    Class<?> c = conf.getClass();
    if (c == ConvolutionLayer.class) {
      return Kind.CONV;
    }
    if (c == DepthwiseConvolution2D.class) {
      return Kind.DEPTHWISE;
    }
    if (c == DenseLayer.class || c == OutputLayer.class) {
      return Kind.DENSE;
    }
    if (c == BatchNormalization.class) {
      return Kind.BATCH_NORM;
    }
    return null;
  }

  /** (h, w, c) of an NCHW flatten in front of a dense layer, or null when rows need no reorder. */
  static long[] nchwFlatten(ComputationGraph graph, String name) {
    Object v = graph.getConfiguration().getVertices().get(name);
    if (v instanceof LayerVertex lv) {
      InputPreProcessor p = lv.getPreProcessor();
      if (p instanceof CnnToFeedForwardPreProcessor f
          && f.getFormat() == CNN2DFormat.NCHW
          && f.getInputHeight() * f.getInputWidth() > 1
          && f.getNumChannels() > 1) {
        return new long[] {f.getInputHeight(), f.getInputWidth(), f.getNumChannels()};
      }
    }
    return null;
  }

  private static Binding bind(ComputationGraph graph, FileLayer fl, GraphVertex v, Path h5) {
    String name = v.getVertexName();
    Layer layer = v.getLayer();
    org.deeplearning4j.nn.conf.layers.Layer conf = unwrap(layer.conf().getLayer());
    Kind kind = kindOf(conf);
    if (kind == null) {
      throw new GraftException(
          "graph layer '"
              + name
              + "' is a "
              + conf.getClass().getSimpleName()
              + "; Keras weights load only into ConvolutionLayer, DepthwiseConvolution2D,"
              + " DenseLayer, OutputLayer and BatchNormalization layers");
    }
    Map<String, FileWeight> byRole = new LinkedHashMap<>();
    for (FileWeight w : fl.weights()) {
      if (byRole.put(w.role(), w) != null) {
        throw new GraftException(
            "Keras weights file "
                + h5
                + ": layer '"
                + fl.name()
                + "' has two "
                + w.role()
                + " weights");
      }
    }
    Map<String, long[]> expected = new LinkedHashMap<>();
    Set<String> required = new HashSet<>();
    long[] flatten = null;
    switch (kind) {
      case CONV -> {
        long[] w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).shape();
        expected.put(KERNEL, new long[] {w[2], w[3], w[1], w[0]});
        required.add(KERNEL);
        if (layer.getParam(DefaultParamInitializer.BIAS_KEY) != null) {
          expected.put(BIAS, new long[] {w[0]});
        }
      }
      case DEPTHWISE -> {
        long[] w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).shape();
        expected.put(DEPTHWISE_KERNEL, w);
        required.add(DEPTHWISE_KERNEL);
        if (layer.getParam(DefaultParamInitializer.BIAS_KEY) != null) {
          expected.put(BIAS, new long[] {w[2] * w[3]});
        }
      }
      case DENSE -> {
        long[] w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).shape();
        expected.put(KERNEL, new long[] {w[0], w[1]});
        required.add(KERNEL);
        if (layer.getParam(DefaultParamInitializer.BIAS_KEY) != null) {
          expected.put(BIAS, new long[] {w[1]});
        }
        flatten = nchwFlatten(graph, name);
      }
      case BATCH_NORM -> {
        BatchNormalization bn = (BatchNormalization) conf;
        long[] c = {bn.getNOut()};
        if (!bn.isLockGammaBeta()) {
          expected.put(GAMMA, c);
          expected.put(BETA, c);
        }
        expected.put(MEAN, c);
        expected.put(VARIANCE, c);
        required.add(MEAN);
        required.add(VARIANCE);
      }
      default -> throw new IllegalStateException(kind.toString());
    }
    for (FileWeight w : fl.weights()) {
      long[] want = expected.get(w.role());
      if (want == null) {
        throw new GraftException(
            "Keras weights file "
                + h5
                + ": layer '"
                + fl.name()
                + "' has a "
                + w.role()
                + " weight that graph layer '"
                + name
                + "' ("
                + conf.getClass().getSimpleName()
                + ") has no place for");
      }
      if (!Arrays.equals(want, w.shape())) {
        throw new GraftException(
            "Keras weights file "
                + h5
                + ": layer '"
                + fl.name()
                + "' weight '"
                + w.name()
                + "' has shape "
                + Arrays.toString(w.shape())
                + " but graph layer '"
                + name
                + "' needs "
                + Arrays.toString(want)
                + " (Keras layout)");
      }
    }
    for (String r : required) {
      if (!byRole.containsKey(r)) {
        throw new GraftException(
            "Keras weights file "
                + h5
                + ": layer '"
                + fl.name()
                + "' has no "
                + r
                + " weight for graph layer '"
                + name
                + "'");
      }
    }
    return new Binding(fl, name, kind, layer, byRole, flatten);
  }

  private static float[] floats(INDArray a) {
    return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
  }
}
