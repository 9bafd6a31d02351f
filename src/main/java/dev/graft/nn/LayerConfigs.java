package dev.graft.nn;

import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;

/**
 * Helpers over DL4J layer configurations that the base catalog, the Keras loader, the strategies
 * and the inference rewriter all need: freezing wraps a layer's configuration, and each of them
 * must look through the wrapper to see what the layer really is.
 */
public final class LayerConfigs {
  private LayerConfigs() {}

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
}
