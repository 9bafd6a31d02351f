package dev.graft.graph;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Truncating: a graph or configuration cut at a vertex (everything the vertex does not depend on
 * removed, the vertex the single output), and instantiating a configuration cheaply when its
 * parameters are about to be overwritten.
 */
public final class Truncation {
  private Truncation() {}

  /**
   * The graph cut at {@code cut}: every vertex that {@code cut} does not depend on is removed and
   * {@code cut} becomes the single output. Parameters are copied by layer name; {@code graph} is
   * untouched (and returned as is when it already ends at {@code cut}).
   */
  public static ComputationGraph truncate(ComputationGraph graph, String cut) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    if (conf.getNetworkOutputs().equals(List.of(cut))) {
      return graph;
    }
    ComputationGraph out = newGraph(truncate(conf, cut), false);
    for (String name : Topology.runtimeOrder(out)) {
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
  public static ComputationGraphConfiguration truncate(
      ComputationGraphConfiguration conf, String cut) {
    if (!conf.getVertices().containsKey(cut)) {
      throw new GraftException("no layer named '" + cut + "' in the graph");
    }
    Set<String> keep = Topology.ancestors(conf, List.of(cut));
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
  public static ComputationGraph newGraph(ComputationGraphConfiguration conf, boolean randomInit) {
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
}
