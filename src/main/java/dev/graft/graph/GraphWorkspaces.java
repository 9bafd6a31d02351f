package dev.graft.graph;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a graph's per-layer workspaces settle in its first pass, so that a freshly built network
 * stops allocating and faulting in memory for its layers from its second batch, in inference and in
 * training.
 *
 * <p>Why: DL4J 1.0.0-M2.1 gives a {@link ComputationGraph} a few per-layer workspaces ({@code
 * WS_LAYER_ACT_0}, {@code _1}, ...), used in turn by the layers for their activations in a forward
 * pass and for their gradients in a backward pass, and one working-memory workspace. Each learns
 * its size over as many openings as the graph has vertices (twice as many for working memory), that
 * is over several passes, about one per workspace in use. Until then every array is allocated
 * outside it and freed again. For an EfficientNetB0 at 224 px, batch 16, that meant 14,000–170,000
 * page faults and up to 300 ms more per batch in its second to fifth forward passes. Learning from
 * the first opening instead (DL4J's own policy for a training step's activations), a workspace
 * grows to its largest layer within the first pass, by reallocating where a layer needs more than
 * it holds; the final sizes are the same.
 */
public final class GraphWorkspaces {
  private static final Logger log = LoggerFactory.getLogger(GraphWorkspaces.class);

  /** DL4J's per-layer configurations, as DL4J sets them, but learning from the first opening. */
  static final WorkspaceConfiguration FIRST_PASS =
      WorkspaceConfiguration.builder()
          .initialSize(0)
          .overallocationLimit(0.02)
          .policyLearning(LearningPolicy.FIRST_LOOP)
          .policyReset(ResetPolicy.BLOCK_LEFT)
          .policySpill(SpillPolicy.REALLOCATE)
          .policyAllocation(AllocationPolicy.OVERALLOCATE)
          .build();

  /** The fields of {@link ComputationGraph} holding those configurations (final, set per graph). */
  static final String[] FIELDS = {"WS_LAYER_ACT_X_CONFIG", "WS_LAYER_WORKING_MEM_CONFIG"};

  private GraphWorkspaces() {}

  /**
   * Sets {@code graph}'s per-layer workspaces to learn their sizes in its first pass. Numerics are
   * unchanged: only where arrays are allocated changes. Where the fields cannot be set (another
   * DL4J version), the graph keeps DL4J's policy and this says so at debug level.
   *
   * @param graph a graph that has not yet run (the policy applies to the workspaces a thread
   *     creates after this call; a thread's workspace that exists already keeps its size)
   * @return {@code graph}
   */
  public static ComputationGraph settleInFirstPass(ComputationGraph graph) {
    try {
      for (String name : FIELDS) {
        Field f = ComputationGraph.class.getDeclaredField(name);
        f.setAccessible(true);
        f.set(graph, FIRST_PASS);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("keeping DL4J's workspace learning policy: {}", e.toString());
    }
    return graph;
  }
}
