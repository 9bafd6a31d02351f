package dev.graft.graph;

import static dev.graft.graph.Layers.unwrap;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parameter transfer between graphs: pretrained weights fitted onto a catalog graph ({@link #fit}),
 * parameters copied between two graphs of the same design ({@link #copy}), and snapshots of some
 * layers' parameters to restore later ({@link #snapshot}, {@link #restore}).
 */
public final class ParameterTransfer {
  private static final Logger LOG = LoggerFactory.getLogger(ParameterTransfer.class);

  private ParameterTransfer() {}

  /**
   * Copies the parameters of {@code source} into a graph shaped like {@code target} and returns
   * that graph. Layers are paired by name; layers of {@code target} left unpaired are paired, in
   * topological order, with the unpaired layers of {@code source} (so a stem named {@code conv1} in
   * one file and {@code stem-cnn1} in the other still meet); every pair must have the same
   * parameter shapes. Source layers with no counterpart (an ImageNet classifier) are dropped.
   * BatchNorm settings that change the numbers (epsilon, variance storage) and the flattening in
   * front of dense layers are taken from the source, since the weights were trained with them.
   *
   * @throws GraftException naming the first layer that finds no counterpart
   */
  public static ComputationGraph fit(
      ComputationGraph source, ComputationGraph target, String what) {
    List<String> targetLayers = paramLayers(target);
    List<String> sourceLayers = paramLayers(source);
    Map<String, String> pairs = new LinkedHashMap<>();
    Set<String> usedSource = new LinkedHashSet<>();
    for (String t : targetLayers) {
      if (sourceLayers.contains(t) && sameShapes(source.getLayer(t), target.getLayer(t))) {
        pairs.put(t, t);
        usedSource.add(t);
      }
    }
    List<String> freeSource = new ArrayList<>();
    for (String s : sourceLayers) {
      if (!usedSource.contains(s) && !pairs.containsKey(s)) {
        freeSource.add(s);
      }
    }
    int cursor = 0;
    for (String t : targetLayers) {
      if (pairs.containsKey(t)) {
        continue;
      }
      if (cursor >= freeSource.size()
          || !sameShapes(source.getLayer(freeSource.get(cursor)), target.getLayer(t))) {
        String offered =
            cursor < freeSource.size()
                ? "'"
                    + freeSource.get(cursor)
                    + "' "
                    + shapes(source.getLayer(freeSource.get(cursor)))
                : "none left";
        throw new GraftException(
            what
                + " does not fit: layer '"
                + t
                + "' "
                + shapes(target.getLayer(t))
                + " has no counterpart in the weights (next unmatched layer there: "
                + offered
                + ")");
      }
      pairs.put(t, freeSource.get(cursor++));
    }
    if (cursor < freeSource.size()) {
      LOG.debug(
          "{}: layers without a counterpart, dropped: {}",
          what,
          freeSource.subList(cursor, freeSource.size()));
    }

    ComputationGraphConfiguration conf = target.getConfiguration().clone();
    boolean changed = alignConfiguration(source.getConfiguration(), conf, pairs, what);
    ComputationGraph out = changed ? Truncation.newGraph(conf, false) : target;
    for (var pair : pairs.entrySet()) {
      Map<String, INDArray> from = source.getLayer(pair.getValue()).paramTable();
      Map<String, INDArray> to = out.getLayer(pair.getKey()).paramTable();
      var fromValues = new ArrayList<>(from.values());
      int i = 0;
      for (INDArray dst : to.values()) {
        dst.assign(fromValues.get(i++).castTo(dst.dataType()));
      }
    }
    return out;
  }

  private static boolean alignConfiguration(
      ComputationGraphConfiguration source,
      ComputationGraphConfiguration target,
      Map<String, String> pairs,
      String what) {
    boolean changed = false;
    for (var pair : pairs.entrySet()) {
      if (!(target.getVertices().get(pair.getKey()) instanceof LayerVertex tv)
          || !(source.getVertices().get(pair.getValue()) instanceof LayerVertex sv)) {
        continue;
      }
      var t = unwrap(tv.getLayerConf().getLayer());
      var s = unwrap(sv.getLayerConf().getLayer());
      if (t instanceof BatchNormalization tb && s instanceof BatchNormalization sb) {
        if (tb.getEps() != sb.getEps() || tb.isUseLogStd() != sb.isUseLogStd()) {
          tb.setEps(sb.getEps());
          tb.setUseLogStd(sb.isUseLogStd());
          changed = true;
        }
      } else if (t instanceof ConvolutionLayer tc && s instanceof ConvolutionLayer sc) {
        if (!sameGeometry(tc, sc)
            || !tc.getActivationFn().toString().equals(sc.getActivationFn().toString())) {
          LOG.warn(
              "{}: layer '{}' differs from '{}' in the weights file (stride {} vs {}, mode {} vs"
                  + " {}, padding {} vs {}, activation {} vs {}); its weights are used as they are",
              what,
              pair.getKey(),
              pair.getValue(),
              Arrays.toString(tc.getStride()),
              Arrays.toString(sc.getStride()),
              tc.getConvolutionMode(),
              sc.getConvolutionMode(),
              Arrays.toString(tc.getPadding()),
              Arrays.toString(sc.getPadding()),
              tc.getActivationFn(),
              sc.getActivationFn());
        }
      } else if (t instanceof FeedForwardLayer
          && tv.getPreProcessor() instanceof CnnToFeedForwardPreProcessor) {
        InputPreProcessor trained = flatteningBefore(source, pair.getValue());
        // Class first: lombok's equals lets a subclass (Keras's channels-last flatten) equal its
        // parent.
        if (trained != null
            && (trained.getClass() != tv.getPreProcessor().getClass()
                || !trained.equals(tv.getPreProcessor()))) {
          tv.setPreProcessor(trained.clone());
          changed = true;
        }
      }
    }
    return changed;
  }

  /**
   * Whether two convolutions map an input to the same output positions: equal strides, kernels and
   * dilations, and equal mode and padding, or {@code Same} on one side and, on the other, the
   * explicit padding that {@code Same} amounts to at stride 1 with odd kernels ({@code (k - 1) / 2}
   * on every side; DL4J's zoo VGG16 is written that way, Graft's and Keras's VGG16 in {@code Same}
   * mode).
   */
  static boolean sameGeometry(ConvolutionLayer a, ConvolutionLayer b) {
    if (!Arrays.equals(a.getStride(), b.getStride())
        || !Arrays.equals(a.getKernelSize(), b.getKernelSize())
        || !Arrays.equals(a.getDilation(), b.getDilation())) {
      return false;
    }
    if (a.getConvolutionMode() == b.getConvolutionMode()) {
      return a.getConvolutionMode() == ConvolutionMode.Same
          || Arrays.equals(a.getPadding(), b.getPadding());
    }
    ConvolutionLayer same = a.getConvolutionMode() == ConvolutionMode.Same ? a : b;
    ConvolutionLayer explicit = same == a ? b : a;
    if (same.getConvolutionMode() != ConvolutionMode.Same
        || explicit.getConvolutionMode() == ConvolutionMode.Causal) {
      return false;
    }
    int[] k = explicit.getKernelSize();
    int[] pad = explicit.getPadding();
    for (int i = 0; i < k.length; i++) {
      if (explicit.getStride()[i] != 1
          || k[i] % 2 == 0
          || explicit.getDilation()[i] != 1
          || pad[i] != (k[i] - 1) / 2) {
        return false;
      }
    }
    return true;
  }

  /** The preprocessor that flattens the input of {@code layer} in {@code conf}, if any. */
  private static InputPreProcessor flatteningBefore(
      ComputationGraphConfiguration conf, String layer) {
    if (conf.getVertices().get(layer) instanceof LayerVertex lv && lv.getPreProcessor() != null) {
      return lv.getPreProcessor();
    }
    List<String> in = conf.getVertexInputs().get(layer);
    if (in != null
        && in.size() == 1
        && conf.getVertices().get(in.get(0)) instanceof PreprocessorVertex pv) {
      return pv.getPreProcessor();
    }
    return null;
  }

  private static List<String> paramLayers(ComputationGraph g) {
    List<String> names = new ArrayList<>();
    for (String n : Topology.runtimeOrder(g)) {
      var v = g.getVertex(n);
      if (v.hasLayer() && v.getLayer().numParams() > 0) {
        names.add(n);
      }
    }
    return names;
  }

  private static boolean sameShapes(Layer a, Layer b) {
    return shapes(a).equals(shapes(b));
  }

  private static String shapes(Layer l) {
    List<String> s = new ArrayList<>();
    for (INDArray p : l.paramTable().values()) {
      s.add(Arrays.toString(p.shape()));
    }
    return s.toString();
  }

  /** Copies the parameters of the layers named in {@code only} (all shared ones when null). */
  public static void copy(ComputationGraph from, ComputationGraph to, Set<String> only) {
    for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : to.getVertices()) {
      if (!v.hasLayer() || v.getLayer().numParams() == 0) {
        continue;
      }
      String name = v.getVertexName();
      if (only != null && !only.contains(name)) {
        continue;
      }
      org.deeplearning4j.nn.graph.vertex.GraphVertex s = from.getVertex(name);
      if (s == null || !s.hasLayer()) {
        continue;
      }
      Map<String, INDArray> dst = v.getLayer().paramTable();
      Map<String, INDArray> srcParams = s.getLayer().paramTable();
      for (Map.Entry<String, INDArray> e : dst.entrySet()) {
        INDArray p = srcParams.get(e.getKey());
        if (p == null || p.length() != e.getValue().length()) {
          throw new GraftException(
              "cannot copy parameter " + name + "/" + e.getKey() + ": shapes differ");
        }
        e.getValue().assign(p.reshape(e.getValue().shape()));
      }
    }
  }

  /** Snapshot of the parameters of the named layers that {@code net} has (copies). */
  public static Map<String, Map<String, INDArray>> snapshot(
      ComputationGraph net, Collection<String> layers) {
    Map<String, Map<String, INDArray>> m = new HashMap<>();
    for (String name : layers) {
      org.deeplearning4j.nn.graph.vertex.GraphVertex v = net.getVertex(name);
      if (v != null && v.hasLayer()) {
        Map<String, INDArray> p = new HashMap<>();
        v.getLayer().paramTable().forEach((k, a) -> p.put(k, a.dup()));
        m.put(name, p);
      }
    }
    return m;
  }

  /**
   * Writes a {@link #snapshot} back into {@code net}. The snapshot may come from a file (a
   * checkpoint): every layer and parameter it names must exist in {@code net} with exactly the same
   * shape, checked for all before any is written.
   *
   * @throws GraftException naming the first layer or parameter that does not fit
   */
  public static void restore(ComputationGraph net, Map<String, Map<String, INDArray>> snapshot) {
    checkFits(net, snapshot);
    snapshot.forEach(
        (name, params) -> {
          Map<String, INDArray> dst = net.getVertex(name).getLayer().paramTable();
          params.forEach((k, a) -> dst.get(k).assign(a));
        });
  }

  /**
   * Checks, without writing anything, that every layer and parameter a {@link #snapshot} names
   * exists in {@code net} with exactly the same shape.
   *
   * @throws GraftException naming the first layer or parameter that does not fit
   */
  public static void checkFits(ComputationGraph net, Map<String, Map<String, INDArray>> snapshot) {
    snapshot.forEach(
        (name, params) -> {
          org.deeplearning4j.nn.graph.vertex.GraphVertex v = net.getVertex(name);
          if (v == null || !v.hasLayer()) {
            throw new GraftException(
                "the saved parameters name a layer '" + name + "' the network does not have");
          }
          Map<String, INDArray> dst = v.getLayer().paramTable();
          params.forEach(
              (k, a) -> {
                INDArray d = dst.get(k);
                if (d == null || !Arrays.equals(d.shape(), a.shape())) {
                  throw new GraftException(
                      "the saved parameter '"
                          + name
                          + "/"
                          + k
                          + "' has shape "
                          + Arrays.toString(a.shape())
                          + ", the network's "
                          + (d == null ? "has no such parameter" : Arrays.toString(d.shape())));
                }
              });
        });
  }
}
