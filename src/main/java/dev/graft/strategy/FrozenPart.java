package dev.graft.strategy;

import dev.graft.features.FeatureKey;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The frozen lower part of a network, seen as a function: preprocessed images in, the activations
 * at the freeze boundary out (in inference mode). An {@link ActivationCache} calls it once per
 * image.
 */
public interface FrozenPart {

  /** Names of the boundary activations, in the order {@link #activations} returns them. */
  List<String> outputs();

  /**
   * Runs the frozen part.
   *
   * @param images {@code [N, 3, s, s]} preprocessed images
   * @return one array per boundary output, first dimension N, detached from any workspace
   */
  INDArray[] activations(INDArray images);

  /**
   * Identifies the computation (base, weights, input, cut, boundary), for a cache that outlives the
   * run; two parts with the same key map the same image to the same activations. Each output's
   * cache is {@code key().output(name)}.
   */
  FeatureKey key();
}
