package dev.graft.graph;

import dev.graft.nn.ActivationSwishTanh;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The running form of {@link NhwcConvolution}: the forward pass is one libnd4j {@code conv2d} on
 * the NHWC input as it is (weights {@code [out, in, kh, kw]}, as DL4J stores them), the activation
 * after it as DL4J applies it, except {@link ActivationSwishTanh}, which starts from a halved
 * convolution.
 */
final class NhwcConvolutionLayer extends ConvolutionLayer {

  NhwcConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  protected Pair<INDArray, INDArray> preOutput(
      boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
    org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
    if (forBackprop || c.getCnn2dDataFormat() != CNN2DFormat.NHWC) {
      NhwcGeometry.requireNoInputPadding(((NhwcConvolution) c).getInputPadding());
      return super.preOutput(training, forBackprop, workspaceMgr);
    }
    return new Pair<>(convolve(training, workspaceMgr, false), null);
  }

  /**
   * With {@link ActivationSwishTanh}, the convolution computes half its pre-activation (weights and
   * bias halved: exact), and the activation starts from there: one pass over the output fewer.
   */
  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (training
        || !(layerConf().getActivationFn() instanceof ActivationSwishTanh)
        || layerConf().getCnn2dDataFormat() != CNN2DFormat.NHWC) {
      return super.activate(training, workspaceMgr);
    }
    applyDropOutIfNecessary(false, workspaceMgr);
    return ActivationSwishTanh.ofHalf(convolve(false, workspaceMgr, true));
  }

  /** The convolution of the NHWC input, plus bias; halved when {@code half}. */
  private INDArray convolve(boolean training, LayerWorkspaceMgr workspaceMgr, boolean half) {
    org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
    assertInputSet(false);
    validateInputRank();
    INDArray w = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
    if (half) {
      w = w.mul(0.5);
    }
    validateInputDepth(w.size(1));
    NhwcGeometry at =
        NhwcGeometry.of(input.castTo(w.dataType()), c, ((NhwcConvolution) c).getInputPadding());
    int[] oihw = {1}; // weights [out, in, kh, kw], as DL4J stores them
    if (!c.hasBias()) {
      return at.run("conv2d", c, w.size(0), workspaceMgr, oihw, w);
    }
    INDArray b = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr);
    return at.run("conv2d", c, w.size(0), workspaceMgr, oihw, w, half ? b.mul(0.5) : b);
  }
}
