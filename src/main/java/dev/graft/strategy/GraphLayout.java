package dev.graft.strategy;

import dev.graft.base.Block;
import java.util.List;
import java.util.Set;

/**
 * What a {@link Strategy} sees of an assembled base + head when it plans training: which layers
 * have parameters, in topological order, which of them are BatchNorm, the base's blocks and the
 * head's layers. Names are vertex names of the assembled network.
 *
 * @param baseLayers the base's layers with parameters below the cut, in topological order
 * @param batchNormLayers those of {@code baseLayers} that are BatchNormalization
 * @param blocks the base's unfreezable blocks, input to output (may be empty)
 * @param headLayers the head's layers with parameters, the output layer last
 * @param convexHead whether the head is a logistic regression to fit to convergence ({@link
 *     dev.graft.head.Head.Solver#LBFGS}) rather than train by epochs
 * @param allBaseLayers every layer of the base below the cut, with or without parameters (pooling,
 *     activations, padding), in topological order: what Keras's {@code model.layers} lists
 */
public record GraphLayout(
    List<String> baseLayers,
    Set<String> batchNormLayers,
    List<Block> blocks,
    List<String> headLayers,
    boolean convexHead,
    List<String> allBaseLayers) {

  /** A layout that lists only the layers with parameters ({@code allBaseLayers} = those). */
  public GraphLayout(
      List<String> baseLayers,
      Set<String> batchNormLayers,
      List<Block> blocks,
      List<String> headLayers,
      boolean convexHead) {
    this(baseLayers, batchNormLayers, blocks, headLayers, convexHead, baseLayers);
  }

  /** A layout whose head trains by epochs. */
  public GraphLayout(
      List<String> baseLayers,
      Set<String> batchNormLayers,
      List<Block> blocks,
      List<String> headLayers) {
    this(baseLayers, batchNormLayers, blocks, headLayers, false);
  }

  /** Copies the collections. */
  public GraphLayout {
    baseLayers = List.copyOf(baseLayers);
    batchNormLayers = Set.copyOf(batchNormLayers);
    blocks = List.copyOf(blocks);
    headLayers = List.copyOf(headLayers);
    allBaseLayers = List.copyOf(allBaseLayers);
  }
}
