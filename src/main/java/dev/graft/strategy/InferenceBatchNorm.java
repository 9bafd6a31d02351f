package dev.graft.strategy;

import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The name {@link dev.graft.graph.InferenceBatchNorm} had before graph code moved to {@code
 * dev.graft.graph}, kept so that model files written then, whose configuration JSON names this
 * class, still load. New graphs use {@link dev.graft.graph.InferenceBatchNorm}.
 *
 * @deprecated for reading old model files only
 */
@Deprecated
public final class InferenceBatchNorm extends dev.graft.graph.InferenceBatchNorm {
  /** Wraps a BatchNormalization layer configuration (Jackson's constructor). */
  public InferenceBatchNorm(@JsonProperty("layer") Layer layer) {
    super(layer);
  }
}
