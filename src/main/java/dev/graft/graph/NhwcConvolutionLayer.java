package dev.graft.graph;

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
 * after it as DL4J applies it.
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
    assertInputSet(false);
    validateInputRank();
    INDArray w = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
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
      op.addInputs(
          x, w, getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr));
    } else {
      op.addInputs(x, w);
    }
    Nd4j.exec(op.build());
    return new Pair<>(out, null);
  }
}
