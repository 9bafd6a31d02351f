package dev.graft.graph;

import dev.graft.nn.ActivationSwishTanh;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The running form of {@link NhwcDepthwiseConvolution}: one libnd4j {@code depthwise_conv2d} on the
 * NHWC input (a folded padding in "same" mode where it matches), into an uninitialised output
 * (DL4J's layer zeroes it first); {@link ActivationSwishTanh} starts from halved weights and bias.
 */
final class NhwcDepthwiseConvolutionLayer extends DepthwiseConvolution2DLayer {

  NhwcDepthwiseConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  protected Pair<INDArray, INDArray> preOutput(
      boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
    if (forBackprop) {
      NhwcGeometry.requireNoInputPadding(
          ((NhwcDepthwiseConvolution) layerConf()).getInputPadding());
      return super.preOutput(training, forBackprop, workspaceMgr);
    }
    return new Pair<>(convolve(training, workspaceMgr, false), null);
  }

  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (training || !(layerConf().getActivationFn() instanceof ActivationSwishTanh)) {
      return super.activate(training, workspaceMgr);
    }
    applyDropOutIfNecessary(false, workspaceMgr);
    return ActivationSwishTanh.ofHalf(convolve(false, workspaceMgr, true));
  }

  /** The depthwise convolution of the NHWC input, plus bias; halved when {@code half}. */
  private INDArray convolve(boolean training, LayerWorkspaceMgr workspaceMgr, boolean half) {
    assertInputSet(false);
    INDArray w =
        getParamWithNoise(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
    if (input.rank() != 4 || input.size(3) != w.size(2)) {
      return super.preOutput(training, false, workspaceMgr).getFirst(); // throws DL4J's error
    }
    if (half) {
      w = w.mul(0.5);
    }
    var c = (NhwcDepthwiseConvolution) layerConf();
    NhwcGeometry at = NhwcGeometry.of(input.castTo(w.dataType()), c, c.getInputPadding());
    long channels = w.size(2) * w.size(3);
    int[] none = {};
    if (!c.hasBias()) {
      return at.run("depthwise_conv2d", c, channels, workspaceMgr, none, w);
    }
    INDArray b =
        getParamWithNoise(DepthwiseConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr);
    return at.run("depthwise_conv2d", c, channels, workspaceMgr, none, w, half ? b.mul(0.5) : b);
  }
}
