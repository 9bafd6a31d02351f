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
 * The shape of a graph as vertex names: inputs of a vertex, the one topological order every Graft
 * rewrite uses, ancestors and descendants. Network inputs are never listed as vertices.
 */
public final class Topology {
  private Topology() {}

  /** The inputs of {@code vertex} (network inputs included), empty when it has none. */
  public static List<String> inputsOf(ComputationGraphConfiguration conf, String vertex) {
    List<String> in = conf.getVertexInputs().get(vertex);
    return in == null ? List.of() : in;
  }

  /** {@link #order(ComputationGraphConfiguration)} of a graph's configuration. */
  public static List<String> order(ComputationGraph graph) {
    return order(graph.getConfiguration());
  }

  /**
   * All vertices of {@code conf} in a deterministic topological order, network inputs excluded:
   * the configuration's own (builder's) order wherever the edges allow it.
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
