package dev.graft.strategy;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A frozen, inference-only graph between two freeze boundaries: from a deeper phase's cached
 * activations to a later phase's boundary, so that the later phase's cache is derived without
 * running the base again.
 *
 * @param graph inputs: the used activations of the deeper boundary; outputs: the later one's
 * @param inputIndices for each graph input, its position in the deeper boundary
 */
public record FrozenBridge(ComputationGraph graph, int[] inputIndices) {}
