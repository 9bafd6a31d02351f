package dev.graft.graph;

import java.util.Objects;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.nd4j.linalg.activations.IActivation;

/**
 * Layer unwrapping: freezing wraps a layer's configuration ({@code FrozenLayer}, {@code
 * FrozenLayerWithBackprop}, {@link InferenceBatchNorm}), and the base catalog, the Keras loader,
 * the strategies and the inference rewriter must all look through the wrapper to see what a layer
 * really is.
 */
public final class Layers {
  private Layers() {}

  /** The layer a (possibly frozen, possibly twice-wrapped) layer configuration wraps. */
  public static Layer unwrap(Layer layer) {
    Layer l = layer;
    while (true) {
      if (l instanceof FrozenLayer f) {
        l = f.getLayer();
      } else if (l instanceof FrozenLayerWithBackprop f) {
        l = f.getUnderlying();
      } else {
        return l;
      }
    }
  }

  /** The unwrapped layer of {@code vertex}, or null when it is not a layer vertex. */
  public static Layer layerOf(ComputationGraphConfiguration conf, String vertex) {
    GraphVertex gv = conf.getVertices().get(Objects.requireNonNull(vertex, "vertex"));
    return gv instanceof LayerVertex lv ? unwrap(lv.getLayerConf().getLayer()) : null;
  }

  /** Whether {@code vertex} is a layer with parameters. */
  public static boolean hasParams(ComputationGraphConfiguration conf, String vertex) {
    Layer l = layerOf(conf, vertex);
    return l != null && l.initializer().numParams(l) > 0;
  }

  /**
   * Replaces the activation function of {@code layer} (a layer with weights, or an activation
   * layer) by {@code swap}'s answer for it; the rewrites for inference ({@code InferenceGraphs})
   * and for training ({@link Rebuild#instantiateForTraining}) share it.
   *
   * @return whether the activation changed
   */
  static boolean swapActivation(Layer layer, UnaryOperator<IActivation> swap) {
    if (layer instanceof BaseLayer b) {
      IActivation a = b.getActivationFn();
      b.setActivationFn(swap.apply(a));
      return b.getActivationFn() != a;
    }
    if (layer instanceof ActivationLayer al) {
      IActivation a = al.getActivationFn();
      al.setActivationFn(swap.apply(a));
      return al.getActivationFn() != a;
    }
    return false;
  }

  /** Whether {@code vertex} is a (possibly frozen) BatchNormalization layer. */
  public static boolean isBatchNorm(ComputationGraphConfiguration conf, String vertex) {
    return layerOf(conf, vertex) instanceof BatchNormalization;
  }
}
