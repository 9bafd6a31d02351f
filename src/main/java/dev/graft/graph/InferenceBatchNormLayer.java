package dev.graft.graph;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Runtime side of {@link InferenceBatchNorm}: forward in inference mode (moving statistics),
 * backward {@code epsilon * gamma / sqrt(var + eps)} per channel, no parameter gradient.
 */
public class InferenceBatchNormLayer extends FrozenLayerWithBackprop {
  private final Gradient noGradient;

  /**
   * Wraps an instantiated BatchNormalization layer.
   *
   * @param inner the BatchNormalization layer
   */
  public InferenceBatchNormLayer(Layer inner) {
    super(inner);
    this.noGradient = new DefaultGradient(inner.params());
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(
      INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
    Layer bn = getInsideLayer();
    BatchNormalization conf = (BatchNormalization) bn.conf().getLayer();
    long channels = conf.getNOut();
    INDArray variance;
    if (conf.isUseLogStd()) {
      INDArray log10Std = bn.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
      INDArray std =
          Transforms.pow(
              Nd4j.valueArrayOf(log10Std.shape(), 10.0, log10Std.dataType()), log10Std, false);
      variance = std.mul(std);
    } else {
      variance = bn.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).dup();
    }
    INDArray scale = Transforms.sqrt(variance.addi(conf.getEps()), false).rdivi(1.0);
    if (conf.isLockGammaBeta()) {
      scale.muli(conf.getGamma());
    } else {
      scale.muli(bn.getParam(BatchNormalizationParamInitializer.GAMMA));
    }
    scale = scale.castTo(epsilon.dataType());
    boolean channelsLast = epsilon.rank() == 4 && conf.getCnn2DFormat() == CNN2DFormat.NHWC;
    long[] broadcastShape =
        epsilon.rank() == 2
            ? new long[] {1, channels}
            : channelsLast ? new long[] {1, 1, 1, channels} : new long[] {1, channels, 1, 1};
    INDArray out =
        workspaceMgr.createUninitialized(
            ArrayType.ACTIVATION_GRAD, epsilon.dataType(), epsilon.shape(), epsilon.ordering());
    // libnd4j's "multiply" with a [1, C, 1, 1] operand: 1.6-2.8x faster than BroadcastMulOp along
    // the channel axis, whose per-(n, c) loop dominates on 7x7 maps
    Nd4j.exec(
        DynamicCustomOp.builder("multiply")
            .addInputs(epsilon, scale.reshape(broadcastShape))
            .addOutputs(out)
            .build());
    return new Pair<>(noGradient, out);
  }
}
