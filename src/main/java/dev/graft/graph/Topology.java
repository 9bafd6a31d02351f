package dev.graft.graph;

import dev.graft.error.GraftException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The shape of a graph as vertex names: inputs of a vertex, topological orders, ancestors and
 * descendants. Network inputs are never listed as vertices. Every rewrite of a configuration uses
 * {@link #order(ComputationGraphConfiguration)}; the base catalog reads an initialised graph in
 * DL4J's own {@link #runtimeOrder(ComputationGraph)}.
 */
public final class Topology {
  private Topology() {}

  /** The inputs of {@code vertex} (network inputs included), empty when it has none. */
  public static List<String> inputsOf(ComputationGraphConfiguration conf, String vertex) {
    List<String> in = conf.getVertexInputs().get(vertex);
    return in == null ? List.of() : in;
  }

  /**
   * The order DL4J itself runs an initialised graph in (its {@code topologicalSortOrder()}),
   * network inputs excluded. Block boundaries and the pairing of unnamed pretrained layers were
   * defined against this order, so the base catalog reads it; it differs from {@link
   * #order(ComputationGraphConfiguration)} inside the branches of ResNet50 and InceptionV3 (see
   * TopologyTest), and switching either user to the other would change which layer gets which
   * weights or which layers a fine-tune unfreezes.
   */
  public static List<String> runtimeOrder(ComputationGraph graph) {
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

  /**
   * All vertices of {@code conf} in a deterministic topological order, network inputs excluded: the
   * configuration's own (builder's) order wherever the edges allow it.
   *
   * @throws GraftException when the graph has a cycle or reads a vertex it does not have
   */
  public static List<String> order(ComputationGraphConfiguration conf) {
    // Consumers are listed in name order, the ready queue starts in the configuration's order.
    List<String> names = new ArrayList<>(conf.getVertices().keySet());
    Collections.sort(names);
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> consumers = new HashMap<>();
    Set<String> inputs = new LinkedHashSet<>(conf.getNetworkInputs());
    for (String v : names) {
      int n = 0;
      for (String in : inputsOf(conf, v)) {
        if (!inputs.contains(in)) {
          n++;
          consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(v);
        }
      }
      pending.put(v, n);
    }
    Deque<String> ready = new ArrayDeque<>();
    for (String v : conf.getVertices().keySet()) {
      if (pending.get(v) == 0) {
        ready.add(v);
      }
    }
    List<String> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String v = ready.poll();
      order.add(v);
      for (String c : consumers.getOrDefault(v, List.of())) {
        if (pending.merge(c, -1, Integer::sum) == 0) {
          ready.add(c);
        }
      }
    }
    if (order.size() != names.size()) {
      throw new GraftException(
          "the graph has a cycle or dangling inputs: ordered "
              + order.size()
              + " of "
              + names.size()
              + " vertices");
    }
    return order;
  }

  /** {@code targets} and every vertex they depend on, network inputs excluded. */
  public static Set<String> ancestors(
      ComputationGraphConfiguration conf, Collection<String> targets) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(targets);
    Set<String> inputs = Set.copyOf(conf.getNetworkInputs());
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (inputs.contains(v) || !seen.add(v)) {
        continue;
      }
      todo.addAll(inputsOf(conf, v));
    }
    return seen;
  }

  /** The vertices of {@code order} that are in {@code roots} or depend on one of them. */
  public static Set<String> downstream(
      ComputationGraphConfiguration conf, List<String> order, Set<String> roots) {
    Set<String> d = new LinkedHashSet<>();
    for (String v : order) {
      if (roots.contains(v) || inputsOf(conf, v).stream().anyMatch(d::contains)) {
        d.add(v);
      }
    }
    return d;
  }
}
