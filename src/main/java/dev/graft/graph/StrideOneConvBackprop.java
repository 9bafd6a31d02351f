package dev.graft.graph;

import java.util.Arrays;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The backward pass of a stride-1 convolution with a kernel larger than 1×1, without the Winograd
 * kernels that libnd4j's {@code conv2d_bp} lets oneDNN pick for 3×3 convolutions (it asks for
 * {@code convolution_auto}); every other call goes to the oneDNN helper it wraps.
 *
 * <p>Why: on the ResNet50 bottleneck those Winograd kernels took 80 of 194 ms of oneDNN time per
 * training step (one thread, {@code DNNL_VERBOSE}), 46 GFLOP/s where the forward convolution of the
 * same shape ran at 120-240. Here the input gradient is libnd4j's {@code deconv2d} (a transposed
 * convolution, which oneDNN runs with its direct backward-data kernel) of the output gradient with
 * the layer's own weights, and the weight gradient one GEMM of the output gradient with the input's
 * columns (im2col laid out as {@code [cIn·kH·kW, n·hOut·wOut]}, so that the GEMM's inner dimension
 * is the whole batch). On a 3×3, 512→512 convolution at 7×7, batch 16: 85 ms for {@code conv2d_bp},
 * 37 ms this way (one thread; 51 and 22 ms on two). Same arithmetic, different summation order:
 * gradients agree with DL4J's own path to float rounding ({@code TrainingHelpersTest}).
 */
final class StrideOneConvBackprop implements ConvolutionHelper {
  private final ConvolutionHelper oneDnn;

  private StrideOneConvBackprop(ConvolutionHelper oneDnn) {
    this.oneDnn = oneDnn;
  }

  /**
   * Wraps the oneDNN helper of every plain convolution layer of {@code net} (not depthwise, not
   * separable: those have their own ops). Layers without a helper keep DL4J's own path.
   */
  static void install(org.deeplearning4j.nn.graph.ComputationGraph net) {
    java.lang.reflect.Field helper;
    try {
      helper = ConvolutionLayer.class.getDeclaredField("helper");
      helper.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return; // another DL4J version: its helpers stay, which is only slower
    }
    for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
      if (l.getClass() == ConvolutionLayer.class
          && l.getHelper() instanceof ConvolutionHelper h
          && !(h instanceof StrideOneConvBackprop)) {
        try {
          helper.set(l, new StrideOneConvBackprop(h));
        } catch (IllegalAccessException e) {
          return; // as above
        }
      }
    }
  }

  @Override
  public boolean checkSupported() {
    return oneDnn.checkSupported();
  }

  @Override
  public Map<String, Long> helperMemoryUse() {
    return oneDnn.helperMemoryUse();
  }

  @Override
  public INDArray preOutput(
      INDArray input,
      INDArray weights,
      INDArray bias,
      int[] kernel,
      int[] strides,
      int[] pad,
      org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
      org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo fwdAlgo,
      ConvolutionMode convolutionMode,
      int[] dilation,
      CNN2DFormat format,
      LayerWorkspaceMgr workspaceMgr) {
    return oneDnn.preOutput(
        input,
        weights,
        bias,
        kernel,
        strides,
        pad,
        mode,
        fwdAlgo,
        convolutionMode,
        dilation,
        format,
        workspaceMgr);
  }

  @Override
  public INDArray activate(INDArray z, IActivation afn, boolean training) {
    return oneDnn.activate(z, afn, training);
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(
      INDArray input,
      INDArray weights,
      INDArray bias,
      INDArray delta,
      int[] kernel,
      int[] strides,
      int[] pad,
      INDArray biasGradView,
      INDArray weightGradView,
      IActivation afn,
      org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
      org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
      org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
      ConvolutionMode convolutionMode,
      int[] dilation,
      CNN2DFormat format,
      LayerWorkspaceMgr workspaceMgr) {
    int[] p = symmetricPadding(input, delta, kernel, strides, pad, convolutionMode, dilation);
    if (format != CNN2DFormat.NCHW
        || p == null
        || input.dataType() != DataType.FLOAT
        || weights.dataType() != DataType.FLOAT
        || delta.dataType() != DataType.FLOAT) {
      return oneDnn.backpropGradient(
          input,
          weights,
          bias,
          delta,
          kernel,
          strides,
          pad,
          bias == null ? null : biasGradView, // DL4J hands a dummy to helpers other than oneDNN's
          weightGradView,
          afn,
          mode,
          bwdFilterAlgo,
          bwdDataAlgo,
          convolutionMode,
          dilation,
          format,
          workspaceMgr);
    }
    int kh = kernel[0];
    int kw = kernel[1];
    long n = input.size(0);
    long cIn = input.size(1);
    long h = input.size(2);
    long w = input.size(3);
    long cOut = weights.size(0);
    long oh = delta.size(2);
    long ow = delta.size(3);
    if (delta.ordering() != 'c' || !Shape.hasDefaultStridesForShape(delta)) {
      delta = delta.dup('c');
    }

    // Input gradient: the transposed convolution of delta with the same kernel. libnd4j's
    // deconv2d reads DL4J's [cOut, cIn, kH, kW] weights as its [iC, oC, kH, kW] (layout 1) and
    // runs oneDNN's direct backward-data kernel: no turned copy of the kernel, no Winograd.
    INDArray gradAtInput =
        workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape());
    Nd4j.exec(
        DynamicCustomOp.builder("deconv2d")
            .addInputs(delta, weights)
            .addOutputs(gradAtInput)
            .addIntegerArguments(kh, kw, 1, 1, p[0], p[1], 1, 1, 0, 0, 1)
            .build());

    // Weight gradient: [cOut, n·oh·ow] × [cIn·kh·kw, n·oh·ow]ᵀ. The columns are copied out of a
    // zero-padded, channel-major copy of the input, one kernel offset at a time.
    INDArray padded =
        workspaceMgr.create(
            ArrayType.BP_WORKING_MEM, DataType.FLOAT, cIn, n, h + 2L * p[0], w + 2L * p[1]);
    padded
        .get(
            NDArrayIndex.all(),
            NDArrayIndex.all(),
            NDArrayIndex.interval(p[0], p[0] + h),
            NDArrayIndex.interval(p[1], p[1] + w))
        .assign(input.permute(1, 0, 2, 3));
    INDArray columns =
        workspaceMgr.createUninitialized(
            ArrayType.BP_WORKING_MEM, DataType.FLOAT, cIn, kh, kw, n, oh, ow);
    for (int a = 0; a < kh; a++) {
      for (int b = 0; b < kw; b++) {
        columns
            .get(
                NDArrayIndex.all(),
                NDArrayIndex.point(a),
                NDArrayIndex.point(b),
                NDArrayIndex.all(),
                NDArrayIndex.all(),
                NDArrayIndex.all())
            .assign(
                padded.get(
                    NDArrayIndex.all(),
                    NDArrayIndex.all(),
                    NDArrayIndex.interval(a, a + oh),
                    NDArrayIndex.interval(b, b + ow)));
      }
    }
    INDArray deltaByChannel =
        workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, cOut, n, oh, ow);
    deltaByChannel.assign(delta.permute(1, 0, 2, 3));
    INDArray weightGrad2d = weightGradView.reshape('c', cOut, cIn * kh * kw);
    Nd4j.exec(
        DynamicCustomOp.builder("matmul")
            .addInputs(
                deltaByChannel.reshape('c', cOut, n * oh * ow),
                columns.reshape('c', cIn * kh * kw, n * oh * ow))
            .addOutputs(weightGrad2d)
            .addIntegerArguments(0, 1)
            .build());
    if (weightGrad2d.data() != weightGradView.data()
        || weightGrad2d.offset() != weightGradView.offset()) {
      weightGradView.assign(weightGrad2d.reshape(weightGradView.shape()));
    }

    Gradient g = new DefaultGradient();
    if (biasGradView != null && bias != null) { // DL4J passes a dummy view for no bias
      biasGradView.assign(
          deltaByChannel.reshape('c', cOut, n * oh * ow).sum(1).reshape(biasGradView.shape()));
      g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
    }
    g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
    return new Pair<>(g, gradAtInput);
  }

  /**
   * The padding {@code [pH, pW]} on each side when this pass applies (stride 1, dilation 1, a
   * kernel wider than 1×1, the same padding before and after, at most {@code k - 1}); else null.
   */
  private static int[] symmetricPadding(
      INDArray input,
      INDArray delta,
      int[] kernel,
      int[] strides,
      int[] pad,
      ConvolutionMode mode,
      int[] dilation) {
    if (strides[0] != 1 || strides[1] != 1 || dilation[0] != 1 || dilation[1] != 1) {
      return null;
    }
    if (kernel[0] == 1 && kernel[1] == 1) {
      return null; // oneDNN's 1×1 kernels are direct already
    }
    int[] p =
        mode == ConvolutionMode.Same
            ? ConvolutionUtils.getSameModeTopLeftPadding(
                new int[] {(int) delta.size(2), (int) delta.size(3)},
                new int[] {(int) input.size(2), (int) input.size(3)},
                kernel,
                strides,
                dilation)
            : Arrays.copyOf(pad, 2);
    for (int d = 0; d < 2; d++) {
      long in = input.size(2 + d);
      long out = delta.size(2 + d);
      // symmetric: the output is exactly in + 2p - k + 1 (Same mode with an odd kernel, or
      // explicit padding with nothing truncated)
      if (p[d] < 0 || p[d] > kernel[d] - 1 || out != in + 2L * p[d] - kernel[d] + 1) {
        return null;
      }
    }
    return p;
  }
}
