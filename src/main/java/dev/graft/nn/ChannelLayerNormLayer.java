package dev.graft.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Runtime side of {@link ChannelLayerNorm}. Backward, with {@code x̂} the normalised input, {@code
 * r = 1/sqrt(var + eps)} and {@code g = dy·gamma}: {@code dx = r (g − mean_C g − x̂ mean_C(g x̂))},
 * {@code dgamma = Σ dy x̂}, {@code dbeta = Σ dy} (sums over every axis but the channels).
 */
public class ChannelLayerNormLayer extends BaseLayer<ChannelLayerNorm> {

  /** The layer, as {@link ChannelLayerNorm#instantiate} makes it. */
  public ChannelLayerNormLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  public Type type() {
    return input != null && input.rank() == 4 ? Type.CONVOLUTIONAL : Type.FEED_FORWARD;
  }

  /** [1, C, 1, 1] or [1, C]: a per-channel vector shaped to broadcast over {@code x}. */
  private static INDArray perChannel(INDArray v, INDArray x) {
    return x.rank() == 4 ? v.reshape(1, v.length(), 1, 1) : v.reshape(1, v.length());
  }

  /** The normalised input and the reciprocal standard deviations ([N, 1, H, W]). */
  private INDArray[] normalise(INDArray x) {
    INDArray mean = x.mean(true, 1);
    INDArray centred = x.sub(mean);
    INDArray var = centred.mul(centred).mean(true, 1);
    INDArray rstd = Transforms.pow(var.addi(layerConf().getEps()), -0.5, false);
    return new INDArray[] {centred.muli(rstd), rstd};
  }

  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
    assertInputSet(false);
    INDArray x = input.castTo(dataType);
    INDArray xhat = normalise(x)[0];
    INDArray gamma = perChannel(getParam(ChannelLayerNorm.GAMMA), x);
    INDArray beta = perChannel(getParam(ChannelLayerNorm.BETA), x);
    INDArray y = xhat.muli(gamma).addi(beta);
    return mgr.leverageTo(ArrayType.ACTIVATIONS, y);
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
    assertInputSet(true);
    INDArray x = input.castTo(dataType);
    INDArray[] n = normalise(x);
    INDArray xhat = n[0];
    INDArray rstd = n[1];
    int[] reduce = x.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
    INDArray gammaGrad = gradientViews.get(ChannelLayerNorm.GAMMA);
    INDArray betaGrad = gradientViews.get(ChannelLayerNorm.BETA);
    gammaGrad.assign(epsilon.mul(xhat).sum(reduce).reshape(gammaGrad.shape()));
    betaGrad.assign(epsilon.sum(reduce).reshape(betaGrad.shape()));
    INDArray g = epsilon.mul(perChannel(getParam(ChannelLayerNorm.GAMMA), x));
    INDArray meanG = g.mean(true, 1);
    INDArray meanGx = g.mul(xhat).mean(true, 1);
    INDArray dx = g.subi(meanG).subi(xhat.muli(meanGx)).muli(rstd);
    Gradient grad = new DefaultGradient();
    grad.setGradientFor(ChannelLayerNorm.GAMMA, gammaGrad);
    grad.setGradientFor(ChannelLayerNorm.BETA, betaGrad);
    return new Pair<>(grad, mgr.leverageTo(ArrayType.ACTIVATION_GRAD, dx));
  }

  @Override
  public boolean isPretrainLayer() {
    return false;
  }

  @Override
  public boolean hasBias() {
    return false;
  }
}
