package dev.graft.base;

import static dev.graft.nn.LayerConfigs.unwrap;

import dev.graft.error.GraftException;
import dev.graft.base.Architecture.BlockEnd;
import dev.graft.io.NetworkZip;
import dev.graft.io.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Graph surgery shared by the catalog and bring-your-own bases. */
final class Graphs {
  private static final Logger LOG = LoggerFactory.getLogger(Graphs.class);
  private static final int MAX_INFERRED_SIZE = 2048;

  private Graphs() {}

  /** Vertex names in topological order, network inputs excluded. */
  static List<String> topologicalNames(ComputationGraph graph) {
    Set<String> inputs = new LinkedHashSet<>(graph.getConfiguration().getNetworkInputs());
    List<String> names = new ArrayList<>();
    var vertices = graph.getVertices();
    for (int i : graph.topologicalSortOrder()) {
      String name = vertices[i].getVertexName();
      if (!inputs.contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  /** The vertices {@code target} depends on, itself included (inputs too). */
  static Set<String> ancestors(ComputationGraphConfiguration conf, String target) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(target));
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (seen.add(v)) {
        List<String> in = conf.getVertexInputs().get(v);
        if (in != null) {
          todo.addAll(in);
        }
      }
    }
    return seen;
  }

  /**
   * The graph cut at {@code cut}: every vertex that {@code cut} does not depend on is removed and
   * {@code cut} becomes the single output. Parameters are copied by layer name; {@code graph} is
   * untouched (and returned as is when it already ends at {@code cut}).
   */
  static ComputationGraph truncate(ComputationGraph graph, String cut) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    if (conf.getNetworkOutputs().equals(List.of(cut))) {
      return graph;
    }
    ComputationGraph out = newGraph(truncate(conf, cut), false);
    for (String name : topologicalNames(out)) {
      var v = out.getVertex(name);
      if (v.hasLayer() && v.getLayer().numParams() > 0) {
        v.getLayer().params().assign(graph.getLayer(name).params());
      }
    }
    return out;
  }

  /**
   * A copy of {@code conf} cut at {@code cut} (see {@link #truncate(ComputationGraph, String)}).
   */
  static ComputationGraphConfiguration truncate(ComputationGraphConfiguration conf, String cut) {
    if (!conf.getVertices().containsKey(cut)) {
      throw new GraftException("no layer named '" + cut + "' in the graph");
    }
    Set<String> keep = ancestors(conf, cut);
    ComputationGraphConfiguration c = conf.clone();
    c.getVertices().keySet().retainAll(keep);
    c.getVertexInputs().keySet().retainAll(keep);
    c.setNetworkOutputs(new ArrayList<>(List.of(cut)));
    c.setTopologicalOrder(null);
    c.setTopologicalOrderStr(null);
    return c;
  }

  /**
   * A graph for {@code conf}, randomly initialised (from the configuration's seed) or, when the
   * parameters are about to be overwritten anyway, filled with zeros (much faster).
   */
  static ComputationGraph newGraph(ComputationGraphConfiguration conf, boolean randomInit) {
    ComputationGraph g = new ComputationGraph(conf);
    if (randomInit) {
      g.init();
    } else {
      long n = 0;
      for (GraphVertex v : conf.getVertices().values()) {
        n += v.numParams(true);
      }
      g.init(n == 0 ? null : Nd4j.zeros(conf.getDataType(), 1, n), false);
    }
    return g;
  }

  /** Blocks of a catalog graph, split at the declared block ends; missing blocks are omitted. */
  static List<Block> blocks(ComputationGraph graph, List<BlockEnd> ends) {
    return blocks(graph, ends, graph.getConfiguration().getNetworkOutputs().get(0));
  }

  /** Blocks of the part of a catalog graph that {@code cut} depends on. */
  static List<Block> blocks(ComputationGraph graph, List<BlockEnd> ends, String cut) {
    Set<String> needed = ancestors(graph.getConfiguration(), cut);
    List<Block> out = new ArrayList<>();
    List<String> pending = new ArrayList<>();
    int next = 0;
    for (String name : topologicalNames(graph)) {
      if (!needed.contains(name)) {
        continue;
      }
      pending.add(name);
      for (int j = next; j < ends.size(); j++) {
        if (ends.get(j).lastVertex().equals(name)) {
          out.add(new Block(ends.get(j).name(), pending));
          pending = new ArrayList<>();
          next = j + 1;
          break;
        }
      }
    }
    flush(out, pending, next < ends.size() ? ends.get(next).name() : null);
    return List.copyOf(out);
  }

  /**
   * Blocks of a graph of unknown design: one block per layer with parameters, named after it;
   * vertices without parameters join the block of the layer before them (or the first block).
   */
  static List<Block> blocksPerLayer(ComputationGraph graph) {
    List<Block> out = new ArrayList<>();
    List<String> pending = new ArrayList<>();
    String pendingName = null;
    for (String name : topologicalNames(graph)) {
      var v = graph.getVertex(name);
      boolean hasParams = v.hasLayer() && v.getLayer().numParams() > 0;
      if (hasParams && pendingName != null) {
        out.add(new Block(pendingName, pending));
        pending = new ArrayList<>();
      }
      if (hasParams) {
        pendingName = name;
      }
      pending.add(name);
    }
    flush(out, pending, pendingName == null ? "all" : pendingName);
    return List.copyOf(out);
  }

  private static void flush(List<Block> out, List<String> pending, String name) {
    if (pending.isEmpty()) {
      return;
    }
    if (name == null && !out.isEmpty()) {
      Block last = out.remove(out.size() - 1);
      List<String> merged = new ArrayList<>(last.layers());
      merged.addAll(pending);
      out.add(new Block(last.name(), merged));
    } else {
      out.add(new Block(name == null ? "all" : name, pending));
    }
  }

  /** The single input of a graph. */
  static String inputName(ComputationGraph graph, String what) {
    List<String> inputs = graph.getConfiguration().getNetworkInputs();
    if (inputs.size() != 1) {
      throw new GraftException(
          what
              + " has "
              + inputs.size()
              + " inputs "
              + inputs
              + "; a base needs exactly one image input");
    }
    return inputs.get(0);
  }

  /**
   * The activations that feed the graph's output layer: the default cut of a base brought from a
   * file.
   */
  static String defaultCut(ComputationGraph graph, String what) {
    List<String> outputs = graph.getConfiguration().getNetworkOutputs();
    if (outputs.size() != 1) {
      throw new GraftException(
          what
              + " has "
              + outputs.size()
              + " outputs "
              + outputs
              + "; name the cut layer explicitly");
    }
    List<String> in = graph.getConfiguration().getVertexInputs().get(outputs.get(0));
    if (in == null || in.size() != 1) {
      throw new GraftException(
          what
              + "'s output layer '"
              + outputs.get(0)
              + "' has inputs "
              + in
              + "; name the cut layer explicitly");
    }
    if (graph.getConfiguration().getNetworkInputs().contains(in.get(0))) {
      throw new GraftException(
          what
              + "'s output layer '"
              + outputs.get(0)
              + "' reads the network input directly: nothing is left once it is removed");
    }
    return in.get(0);
  }

  /** The channels of the image input: the numChannels of a reshaping preprocessor or a conv nIn. */
  static OptionalInt inputChannels(ComputationGraph graph) {
    String input = inputName(graph, "the graph");
    for (LayerVertex lv : readersOf(graph.getConfiguration(), input)) {
      if (lv.getPreProcessor() instanceof FeedForwardToCnnPreProcessor p) {
        return OptionalInt.of((int) p.getNumChannels());
      }
      if (unwrap(lv.getLayerConf().getLayer()) instanceof ConvolutionLayer c && c.getNIn() > 0) {
        return OptionalInt.of((int) c.getNIn());
      }
    }
    return OptionalInt.empty();
  }

  /**
   * The square input size a graph declares: from a flat-to-image preprocessor on its input, or
   * inferred from the first image-to-dense preprocessor (the smallest even size giving its shape,
   * else the smallest). Empty for a fully convolutional graph, which accepts many sizes.
   */
  static OptionalInt declaredInputSize(ComputationGraph graph) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    String input = inputName(graph, "the graph");
    for (LayerVertex lv : readersOf(conf, input)) {
      if (lv.getPreProcessor() instanceof FeedForwardToCnnPreProcessor p) {
        return OptionalInt.of((int) Math.max(p.getInputHeight(), p.getInputWidth()));
      }
    }
    OptionalInt channels = inputChannels(graph);
    if (channels.isEmpty()) {
      return OptionalInt.empty();
    }
    for (String name : topologicalNames(graph)) {
      GraphVertex v = conf.getVertices().get(name);
      InputPreProcessor pp =
          v instanceof LayerVertex lv
              ? lv.getPreProcessor()
              : v instanceof PreprocessorVertex pv ? pv.getPreProcessor() : null;
      if (pp instanceof CnnToFeedForwardPreProcessor flat) {
        String feeding = conf.getVertexInputs().get(name).get(0);
        // Flooring makes several sizes fit (19 and 20 both give 9 after a stride-2 3x3 conv):
        // take the smallest even one, as networks are designed at even sizes, else the smallest.
        int firstOdd = -1;
        for (int s = 1; s <= MAX_INFERRED_SIZE; s++) {
          InputType t = activationType(conf, feeding, s, channels.getAsInt());
          if (t instanceof InputType.InputTypeConvolutional c
              && c.getHeight() == flat.getInputHeight()
              && c.getWidth() == flat.getInputWidth()) {
            if (s % 2 == 0) {
              return OptionalInt.of(s);
            }
            firstOdd = firstOdd < 0 ? s : firstOdd;
          } else if (firstOdd > 0) {
            break;
          }
        }
        return firstOdd > 0 ? OptionalInt.of(firstOdd) : OptionalInt.empty();
      }
    }
    return OptionalInt.empty();
  }

  private static InputType activationType(
      ComputationGraphConfiguration conf, String vertex, int size, int channels) {
    try {
      Map<String, InputType> types =
          conf.clone()
              .getLayerActivationTypes(true, false, InputType.convolutional(size, size, channels));
      return types.get(vertex);
    } catch (RuntimeException tooSmallOrOdd) {
      return null;
    }
  }

  private static List<LayerVertex> readersOf(ComputationGraphConfiguration conf, String input) {
    List<LayerVertex> readers = new ArrayList<>();
    for (var e : conf.getVertexInputs().entrySet()) {
      if (e.getValue().contains(input)
          && conf.getVertices().get(e.getKey()) instanceof LayerVertex lv) {
        readers.add(lv);
      }
    }
    return readers;
  }


  /**
   * Reads a ModelSerializer zip holding a ComputationGraph or a MultiLayerNetwork, through the safe
   * reader ({@link NetworkZip}: no Java deserialization, allowlisted classes, bounded sizes).
   */
  static ComputationGraph loadZip(Path zip) throws IOException {
    if (!Files.isRegularFile(zip)) {
      throw new GraftException("no such model file: " + zip.toAbsolutePath());
    }
    return NetworkZip.read(zip);
  }

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
  static ComputationGraph transferParams(
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
    ComputationGraph out = changed ? newGraph(conf, false) : target;
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
        if (!Arrays.equals(tc.getStride(), sc.getStride())
            || tc.getConvolutionMode() != sc.getConvolutionMode()
            || !Arrays.equals(tc.getPadding(), sc.getPadding())
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
    for (String n : topologicalNames(g)) {
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

  /** SHA-256 of a graph's configuration and parameters, hex. */
  static String sha256(ComputationGraph graph) {
    MessageDigest md = sha256();
    md.update(graph.getConfiguration().toJson().getBytes(StandardCharsets.UTF_8));
    INDArray params = graph.params();
    if (params != null && params.length() > 0) {
      INDArray flat = params.isView() ? params.dup() : params;
      md.update(flat.data().asNio());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    return Sha256.digest();
  }
}
