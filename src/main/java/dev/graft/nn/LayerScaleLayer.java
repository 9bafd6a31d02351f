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
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runtime side of {@link LayerScale}. The drop mask of a training forward pass ({@code [N, 1, 1,
 * 1]}: 0 or {@code 1/(1-p)} per example) is kept for the backward pass: {@code dx = dy · gamma ·
 * mask}, {@code dgamma = Σ dy · x · mask}.
 */
public class LayerScaleLayer extends BaseLayer<LayerScale> {
  private INDArray mask;

  /** The layer, as {@link LayerScale#instantiate} makes it. */
  public LayerScaleLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  public Type type() {
    return input != null && input.rank() == 4 ? Type.CONVOLUTIONAL : Type.FEED_FORWARD;
  }

  private INDArray gamma(INDArray x) {
    INDArray g = getParam(LayerScale.GAMMA);
    return x.rank() == 4 ? g.reshape(1, g.length(), 1, 1) : g.reshape(1, g.length());
  }

  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
    assertInputSet(false);
    INDArray x = input.castTo(dataType);
    INDArray y = x.mul(gamma(x));
    double p = layerConf().getDropPath();
    mask = null;
    if (training && p > 0) {
      long[] shape = new long[x.rank()];
      java.util.Arrays.fill(shape, 1);
      shape[0] = x.size(0);
      // keep with probability 1 - p, scaled so the expectation is unchanged
      mask = Nd4j.rand(dataType, shape).gt(p).castTo(dataType).divi(1 - p);
      y.muli(mask);
    }
    return mgr.leverageTo(ArrayType.ACTIVATIONS, y);
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
    assertInputSet(true);
    INDArray x = input.castTo(dataType);
    INDArray dy = mask == null ? epsilon : epsilon.mul(mask);
    int[] reduce = x.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
    INDArray gammaGrad = gradientViews.get(LayerScale.GAMMA);
    gammaGrad.assign(dy.mul(x).sum(reduce).reshape(gammaGrad.shape()));
    INDArray dx = dy.mul(gamma(x));
    Gradient grad = new DefaultGradient();
    grad.setGradientFor(LayerScale.GAMMA, gammaGrad);
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

  @Override
  public void clear() {
    super.clear();
    mask = null;
  }
}
