package dev.graft.graph;

import java.util.Collection;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A frozen BatchNormalization layer in inference mode that lets gradients through to the layers
 * below it: what fine-tuning needs for the BatchNorm layers inside the unfrozen part of a base.
 *
 * <p>DL4J 1.0.0-M2.1 offers {@code FrozenLayer}, which runs BatchNorm in inference mode but stops
 * backpropagation, and {@code FrozenLayerWithBackprop}, which fails around BatchNorm (its backprop
 * needs the batch statistics of a training-mode forward pass). In inference mode BatchNorm is the
 * per-channel affine map {@code y = gamma (x - mean) / sqrt(var + eps) + beta}, so the gradient to
 * its input is {@code dy * gamma / sqrt(var + eps)}; {@link InferenceBatchNormLayer} computes
 * exactly that and leaves every parameter, moving mean and variance included, untouched.
 *
 * <p>It serialises with the network's JSON configuration like any DL4J layer.
 */
public class InferenceBatchNorm extends FrozenLayerWithBackprop {

  /**
   * Wraps a BatchNormalization layer configuration.
   *
   * @param layer the BatchNormalization configuration
   */
  public InferenceBatchNorm(@JsonProperty("layer") org.deeplearning4j.nn.conf.layers.Layer layer) {
    super(layer);
    // Jackson passes null here and sets the wrapped layer afterwards.
    if (layer != null && !(layer instanceof BatchNormalization)) {
      throw new IllegalArgumentException(
          "InferenceBatchNorm wraps BatchNormalization, got " + layer.getClass().getSimpleName());
    }
  }

  @Override
  public Layer instantiate(
      NeuralNetConfiguration conf,
      Collection<TrainingListener> listeners,
      int layerIndex,
      INDArray layerParamsView,
      boolean initializeParams,
      DataType dataType) {
    Layer inner =
        getUnderlying()
            .instantiate(
                getInnerConf(conf),
                listeners,
                layerIndex,
                layerParamsView,
                initializeParams,
                dataType);
    NeuralNetConfiguration innerConf = inner.conf();
    if (innerConf.variables() != null) {
      List<String> vars = innerConf.variables(true);
      innerConf.clearVariables();
      conf.clearVariables();
      for (String s : vars) {
        conf.variables(false).add(s);
        innerConf.variables(false).add(s);
      }
    }
    return new InferenceBatchNormLayer(inner);
  }
}
