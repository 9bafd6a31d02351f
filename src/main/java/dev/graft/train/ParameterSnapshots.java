package dev.graft.train;

import dev.graft.graph.ParameterTransfer;
import dev.graft.strategy.Phase;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies of the parameters of every layer that trains in some phase, as the best epoch and the
 * checkpoint keep them. Layers that train in another phase do not change during this one, so they
 * are copied once when the phase starts, not at every epoch: an epoch copies only what it trained.
 */
final class ParameterSnapshots {
  private final ComputationGraph whole;
  private final List<String> everTrainable;
  private Phase phase;
  private Map<String, Map<String, INDArray>> fixedInPhase = Map.of();

  ParameterSnapshots(ComputationGraph whole, Set<String> everTrainable) {
    this.whole = whole;
    this.everTrainable = List.copyOf(everTrainable);
  }

  /** Copies, once, the layers that {@code phase} does not train (from the whole network). */
  void phaseStarts(Phase phase) {
    this.phase = phase;
    Set<String> others = new LinkedHashSet<>(everTrainable);
    others.removeAll(phase.trainable());
    fixedInPhase = ParameterTransfer.snapshot(whole, others);
  }

  /**
   * Every ever-trainable layer's parameters now: the phase network's trained layers over the copies
   * made when the phase started. The arrays of layers this phase does not train are shared between
   * snapshots of the phase; nothing writes to them.
   */
  Map<String, Map<String, INDArray>> take(ComputationGraph phaseNetwork) {
    Map<String, Map<String, INDArray>> m = new LinkedHashMap<>(fixedInPhase);
    m.putAll(ParameterTransfer.snapshot(phaseNetwork, phase.trainable()));
    return m;
  }
}
