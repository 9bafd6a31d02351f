package dev.graft.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runtime side of {@link LayerScale}. The drop mask of a training forward pass ({@code [N, 1, 1,
 * 1]}: 0 or {@code 1/(1-p)} per example) is kept for the backward pass: {@code dx = dy · gamma ·
 * mask}, {@code dgamma = Σ dy · x · mask}.
 */
public class LayerScaleLayer extends ChannelParamRuntime<LayerScale> {
  private INDArray mask;

  /** The layer, as {@link LayerScale#instantiate} makes it. */
  public LayerScaleLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
    assertInputSet(false);
    INDArray x = input.castTo(dataType);
    INDArray y = x.mul(perChannel(LayerScale.GAMMA, x));
    double p = layerConf().getDropPath();
    mask = null;
    if (training && p > 0) {
      long[] shape = new long[x.rank()];
      java.util.Arrays.fill(shape, 1);
      shape[0] = x.size(0);
      // keep with probability 1 - p, scaled so the expectation is unchanged
      // detached: the backward pass runs after this forward pass's workspace has been reset
      mask = Nd4j.rand(dataType, shape).gt(p).castTo(dataType).divi(1 - p).detach();
      y.muli(mask);
    }
    return mgr.leverageTo(ArrayType.ACTIVATIONS, y);
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
    assertInputSet(true);
    INDArray x = input.castTo(dataType);
    INDArray dy = mask == null ? epsilon : epsilon.mul(mask);
    int[] reduce = nonChannelAxes(x);
    INDArray gammaGrad = gradientViews.get(LayerScale.GAMMA);
    gammaGrad.assign(dy.mul(x).sum(reduce).reshape(gammaGrad.shape()));
    INDArray dx = dy.mul(perChannel(LayerScale.GAMMA, x));
    Gradient grad = new DefaultGradient();
    grad.setGradientFor(LayerScale.GAMMA, gammaGrad);
    return new Pair<>(grad, mgr.leverageTo(ArrayType.ACTIVATION_GRAD, dx));
  }

  @Override
  public void clear() {
    super.clear();
    mask = null;
  }
}
