package dev.graft.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;

/**
 * A network split at a freeze boundary, computed once from its configuration: the vertices that
 * train or depend on a trainable layer (the trainable part), and the vertices or network input
 * outside it that feed it (the boundary, whose activations the frozen part computes). Also the
 * frozen bridges between two boundaries ({@link Graph#bridge}).
 *
 * <pre>{@code
 * Partition.Graph g = Partition.of(conf);          // topological order, computed once
 * Partition p = g.split(Set.of("res5c_branch2a", "head_output"));
 * p.boundary();                                     // e.g. [res5b_relu]
 * }</pre>
 *
 * @param trainable the trainable part's vertices, in topological order
 * @param boundary the activations the trainable part reads from outside it, in topological order
 *     (the network input when a trainable layer reads the images)
 * @param readsImages whether the boundary is the network input: nothing below is frozen
 */
public record Partition(Set<String> trainable, List<String> boundary, boolean readsImages) {

  /** Copies the collections. */
  public Partition {
    trainable = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(trainable));
    boundary = List.copyOf(boundary);
  }

  /**
   * A configuration with its topological order, computed once for every split of it.
   *
   * @return the graph view
   */
  public static Graph of(ComputationGraphConfiguration conf) {
    return new Graph(conf, Topology.order(conf));
  }

  /**
   * The vertices between two boundaries: a frozen graph from the activations {@code from} to {@code
   * to}, so that one phase's cache is derived from another's.
   *
   * @param vertices the vertices to run, in no particular order
   * @param inputs the names of {@code from} those vertices read, in the order of {@code from}
   * @param inputIndices for each input, its position in {@code from}
   * @param outputs {@code to}
   */
  public record Bridge(
      Set<String> vertices, List<String> inputs, int[] inputIndices, List<String> outputs) {
    /** Copies the collections. */
    public Bridge {
      vertices = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(vertices));
      inputs = List.copyOf(inputs);
      inputIndices = inputIndices.clone();
      outputs = List.copyOf(outputs);
    }
  }

  /** A configuration and its topological order. */
  public static final class Graph {
    private final ComputationGraphConfiguration conf;
    private final List<String> order;

    private Graph(ComputationGraphConfiguration conf, List<String> order) {
      this.conf = conf;
      this.order = List.copyOf(order);
    }

    /**
     * The split at which the layers {@code trainable} and everything downstream of them train.
     *
     * @param trainable layer names
     * @return the partition
     */
    public Partition split(Collection<String> trainable) {
      Set<String> down = Topology.downstream(conf, order, new LinkedHashSet<>(trainable));
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
      boolean readsImages = boundary.stream().anyMatch(conf.getNetworkInputs()::contains);
      return new Partition(down, boundary, readsImages);
    }

    /**
     * The frozen bridge computing {@code to} from {@code from}; empty when {@code to} needs more
     * than {@code from} (a network input, or activations {@code from} does not hold) or shares a
     * name with it.
     *
     * @param from a deeper boundary
     * @param to a shallower one
     * @return the bridge, or empty
     */
    public Optional<Bridge> bridge(List<String> from, List<String> to) {
      if (to.isEmpty() || to.stream().anyMatch(from::contains)) {
        return Optional.empty();
      }
      Set<String> need = new LinkedHashSet<>();
      Deque<String> todo = new ArrayDeque<>(to);
      while (!todo.isEmpty()) {
        String v = todo.pop();
        if (from.contains(v) || need.contains(v)) {
          continue;
        }
        if (conf.getNetworkInputs().contains(v)) {
          return Optional.empty();
        }
        need.add(v);
        todo.addAll(Topology.inputsOf(conf, v));
      }
      List<String> used = new ArrayList<>();
      for (String f : from) {
        if (need.stream().anyMatch(v -> Topology.inputsOf(conf, v).contains(f))) {
          used.add(f);
        }
      }
      int[] indices = used.stream().mapToInt(from::indexOf).toArray();
      return Optional.of(new Bridge(need, used, indices, to));
    }
  }
}
