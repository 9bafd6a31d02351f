package dev.graft.graph;

import dev.graft.nn.ActivationSwishTanh;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

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
    INDArray x = input.castTo(w.dataType());
    validateInputDepth(w.size(1));
    int[] k = c.getKernelSize();
    int[] s = c.getStride();
    int[] d = c.getDilation();
    ConvolutionMode mode = c.getConvolutionMode();
    int[] pad;
    int[] outSize;
    if (mode == ConvolutionMode.Same) {
      outSize = ConvolutionUtils.getOutputSize(x, k, s, null, mode, d, CNN2DFormat.NHWC);
      pad =
          ConvolutionUtils.getSameModeTopLeftPadding(
              outSize, new int[] {(int) x.size(1), (int) x.size(2)}, k, s, d);
    } else {
      pad = c.getPadding();
      outSize = ConvolutionUtils.getOutputSize(x, k, s, pad, mode, d, CNN2DFormat.NHWC);
    }
    INDArray out =
        workspaceMgr.createUninitialized(
            ArrayType.ACTIVATIONS,
            w.dataType(),
            new long[] {x.size(0), outSize[0], outSize[1], w.size(0)},
            'c');
    DynamicCustomOp.DynamicCustomOpsBuilder op =
        DynamicCustomOp.builder("conv2d")
            .addIntegerArguments(
                k[0],
                k[1],
                s[0],
                s[1],
                pad[0],
                pad[1],
                d[0],
                d[1],
                mode == ConvolutionMode.Same ? 1 : 0,
                1, // activations NHWC
                1) // weights [out, in, kh, kw]
            .addOutputs(out);
    if (c.hasBias()) {
      INDArray b = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr);
      op.addInputs(x, w, half ? b.mul(0.5) : b);
    } else {
      op.addInputs(x, w);
    }
    Nd4j.exec(op.build());
    return out;
  }
}
