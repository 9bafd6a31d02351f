package dev.graft.base;

import static dev.graft.graph.Layers.unwrap;

import dev.graft.base.Architecture.BlockEnd;
import dev.graft.error.GraftException;
import dev.graft.graph.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * What the catalog and a base of your own read from a DL4J graph without changing it: its blocks,
 * its single input and channels, the default cut and the input size it declares. (Rewriting a graph
 * is {@code dev.graft.graph}'s job.)
 */
final class GraphFacts {
  private static final int MAX_INFERRED_SIZE = 2048;

  private GraphFacts() {}

  /** Blocks of a catalog graph, split at the declared block ends; missing blocks are omitted. */
  static List<Block> blocks(ComputationGraph graph, List<BlockEnd> ends) {
    return blocks(graph, ends, graph.getConfiguration().getNetworkOutputs().get(0));
  }

  /** Blocks of the part of a catalog graph that {@code cut} depends on. */
  static List<Block> blocks(ComputationGraph graph, List<BlockEnd> ends, String cut) {
    Set<String> needed = Topology.ancestors(graph.getConfiguration(), List.of(cut));
    List<Block> out = new ArrayList<>();
    List<String> pending = new ArrayList<>();
    int next = 0;
    for (String name : Topology.runtimeOrder(graph)) {
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
    for (String name : Topology.runtimeOrder(graph)) {
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
    for (String name : Topology.runtimeOrder(graph)) {
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
        // A classification CNN only shrinks its map: start at the map's size (smaller inputs
        // would shrink to nothing, and DL4J warns about every zero-height map on the way).
        int from = (int) Math.max(1, Math.min(flat.getInputHeight(), flat.getInputWidth()));
        for (int s = from; s <= MAX_INFERRED_SIZE; s++) {
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
}
