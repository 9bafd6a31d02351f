package dev.graft.graph;

import java.util.Arrays;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
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

/**
 * The oneDNN helper of a plain convolution layer in a training network, with three passes of its
 * own where libnd4j's {@code conv2d} / {@code conv2d_bp} do more work than the layer needs:
 *
 * <ul>
 *   <li><b>Stride-1 backward pass, kernel larger than 1×1</b>, without the Winograd kernels that
 *       {@code conv2d_bp} lets oneDNN pick for 3×3 convolutions (it asks for {@code
 *       convolution_auto}). On the ResNet50 bottleneck those took 80 of 194 ms of oneDNN time per
 *       step (one thread, {@code DNNL_VERBOSE}), 46 GFLOP/s where the forward convolution of the
 *       same shape ran at 120-240. Here the input gradient is libnd4j's {@code deconv2d} (oneDNN's
 *       direct backward-data kernel) of the output gradient with the layer's own weights, and the
 *       weight gradient one GEMM of the output gradient with the input's columns (im2col laid out
 *       as {@code [cIn·kH·kW, n·hOut·wOut]}, so that the GEMM's inner dimension is the whole
 *       batch). On a 3×3, 512→512 convolution at 7×7, batch 16: 85 ms for {@code conv2d_bp}, 37 ms
 *       this way (one thread; 51 and 22 ms on two).
 *   <li><b>No input gradient</b> for a layer that reads only the network's inputs ({@link #install}
 *       marks those): the training network's inputs are images or cached activations, and no
 *       gradient flows out of them, but {@code conv2d_bp} always computes one (as much work again
 *       as the weight gradient, plus its layout reorders). Such a layer computes the weight
 *       gradient alone, by the GEMM above, for any stride-1 geometry the GEMM covers (1×1
 *       included).
 *   <li><b>A 1×1 convolution of a 1×1 map</b> (the squeeze-and-excitation convolutions of
 *       EfficientNet) is a dense layer: both passes are GEMMs of {@code [n, c]} matrices. Through
 *       oneDNN each call reordered its weights and activations to and from blocked layouts, which
 *       took ten times the convolution itself.
 * </ul>
 *
 * Every other call goes to the oneDNN helper it wraps. Same arithmetic, different summation order:
 * gradients agree with DL4J's own path to float rounding ({@code TrainingHelpersTest}).
 */
final class TrainingConvolutionHelper implements ConvolutionHelper {
  /** Which pass a call took; read by tests. */
  enum Pass {
    ONE_DNN,
    STRIDE_ONE,
    WEIGHTS_ONLY,
    DENSE,
    CHANNELS_LAST
  }

  private final ConvolutionHelper oneDnn;
  private final boolean inputGradient;
  private Pass lastForward;
  private Pass lastBackward;

  private TrainingConvolutionHelper(ConvolutionHelper oneDnn, boolean inputGradient) {
    this.oneDnn = oneDnn;
    this.inputGradient = inputGradient;
  }

  /**
   * Wraps the oneDNN helper of every plain convolution layer of {@code net} (not depthwise, not
   * separable: those have their own ops); a layer that reads only network inputs (directly or
   * through a layout conversion) computes no input gradient: those vertices drop gradients ({@link
   * NoGradientInput#install}). Layers without a helper keep DL4J's own path.
   */
  static void install(ComputationGraph net) {
    java.lang.reflect.Field helper;
    try {
      helper = ConvolutionLayer.class.getDeclaredField("helper");
      helper.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return; // another DL4J version: its helpers stay, which is only slower
    }
    boolean[] noGradient = NoGradientInput.install(net);
    for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : net.getVertices()) {
      if (v.hasLayer()
          && v.getLayer() instanceof TrainingConvolution.Runtime
          && v.getLayer().getHelper() instanceof ConvolutionHelper h
          && !(h instanceof TrainingConvolutionHelper)) {
        boolean readsNoGradientOnly =
            v.getInputVertices() != null
                && Arrays.stream(v.getInputVertices())
                    .allMatch(in -> noGradient[in.getVertexIndex()]);
        try {
          helper.set(v.getLayer(), new TrainingConvolutionHelper(h, !readsNoGradientOnly));
        } catch (IllegalAccessException e) {
          return; // as above
        }
      }
    }
  }

  /** Whether this layer's backward pass computes the gradient at its input. */
  boolean computesInputGradient() {
    return inputGradient;
  }

  /** The pass the last forward call took, null before the first. */
  Pass lastForward() {
    return lastForward;
  }

  /** The pass the last backward call took, null before the first. */
  Pass lastBackward() {
    return lastBackward;
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
    if (isDense(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format)) {
      lastForward = Pass.DENSE;
      return pointwiseForward(
          input, weights, bias, new long[] {input.size(0), weights.size(0), 1, 1}, workspaceMgr);
    }
    lastForward = Pass.ONE_DNN;
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
    boolean floats =
        format == CNN2DFormat.NCHW
            && input.dataType() == DataType.FLOAT
            && weights.dataType() == DataType.FLOAT
            && delta.dataType() == DataType.FLOAT;
    if (delta.dataType() == DataType.FLOAT
        && isDense(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format)) {
      lastBackward = Pass.DENSE;
      return pointwiseBackward(
          input, weights, bias, delta, biasGradView, weightGradView, workspaceMgr);
    }
    int[] p =
        floats
            ? strideOnePadding(input, delta, kernel, strides, pad, convolutionMode, dilation)
            : null;
    boolean larger = kernel[0] > 1 || kernel[1] > 1;
    // a 1×1 convolution that owes its input gradient stays on oneDNN's direct 1×1 kernels: both
    // gradients as GEMMs over channel-major copies measured no faster inside a step
    if (p == null || (inputGradient && !larger)) {
      lastBackward = Pass.ONE_DNN;
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
    if (delta.ordering() != 'c' || !Shape.hasDefaultStridesForShape(delta)) {
      delta = delta.dup('c');
    }
    INDArray gradAtInput = null;
    if (inputGradient) {
      lastBackward = Pass.STRIDE_ONE;
      // the transposed convolution of delta with the same kernel. libnd4j's deconv2d reads DL4J's
      // [cOut, cIn, kH, kW] weights as its [iC, oC, kH, kW] (layout 1) and runs oneDNN's direct
      // backward-data kernel: no turned copy of the kernel, no Winograd
      gradAtInput =
          workspaceMgr.createUninitialized(
              ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape());
      Nd4j.exec(
          DynamicCustomOp.builder("deconv2d")
              .addInputs(delta, weights)
              .addOutputs(gradAtInput)
              .addIntegerArguments(kernel[0], kernel[1], 1, 1, p[0], p[1], 1, 1, 0, 0, 1)
              .build());
    } else {
      lastBackward = Pass.WEIGHTS_ONLY;
    }
    Gradient g =
        ConvolutionGemms.weightGradient(
            input, bias, delta, kernel, p, biasGradView, weightGradView, workspaceMgr);
    return new Pair<>(g, gradAtInput);
  }

  /**
   * The forward pass of a pointwise convolution on channels-last activations {@code x} ({@code [n,
   * h, w, cIn]}), as {@code [n, h, w, cOut]}.
   */
  INDArray channelsLastForward(
      INDArray x, INDArray weights, INDArray bias, LayerWorkspaceMgr workspaceMgr) {
    lastForward = Pass.CHANNELS_LAST;
    return pointwiseForward(
        x,
        weights,
        bias,
        new long[] {x.size(0), x.size(1), x.size(2), weights.size(0)},
        workspaceMgr);
  }

  /**
   * Both gradients of a pointwise convolution on channels-last activations, as {@link
   * #pointwiseBackward}.
   */
  Pair<Gradient, INDArray> channelsLastBackward(
      INDArray x,
      INDArray weights,
      INDArray bias,
      INDArray delta,
      INDArray biasGradView,
      INDArray weightGradView,
      LayerWorkspaceMgr workspaceMgr) {
    lastBackward = Pass.CHANNELS_LAST;
    return pointwiseBackward(x, weights, bias, delta, biasGradView, weightGradView, workspaceMgr);
  }

  /**
   * A pointwise convolution whose activations are rows of channels, {@code [n·h·w, cIn]}: a
   * channels-last map, or an NCHW map of 1×1 (a dense layer in disguise). Its output, of shape
   * {@code outShape}, is {@code rows × Wᵀ} plus the bias.
   */
  private static INDArray pointwiseForward(
      INDArray x,
      INDArray weights,
      INDArray bias,
      long[] outShape,
      LayerWorkspaceMgr workspaceMgr) {
    long cOut = weights.size(0);
    INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), outShape);
    INDArray z = ConvolutionGemms.rows(out, cOut);
    ConvolutionGemms.matmul(
        ConvolutionGemms.rows(x, weights.size(1)), ConvolutionGemms.rows(weights), z, false, true);
    if (bias != null) {
      z.addiRowVector(bias.reshape(cOut));
    }
    return out;
  }

  /**
   * Both gradients of {@link #pointwiseForward}'s convolution, as GEMMs of the rows: weights {@code
   * δᵀ·x}, input {@code δ·W} (when this layer owes one), bias the column sums of δ.
   */
  private Pair<Gradient, INDArray> pointwiseBackward(
      INDArray x,
      INDArray weights,
      INDArray bias,
      INDArray delta,
      INDArray biasGradView,
      INDArray weightGradView,
      LayerWorkspaceMgr workspaceMgr) {
    long cIn = weights.size(1);
    INDArray d = ConvolutionGemms.rows(delta, weights.size(0));
    ConvolutionGemms.writeWeightGradient(
        d, ConvolutionGemms.rows(x, cIn), true, bias, d, 0, biasGradView, weightGradView);
    INDArray gradAtInput = null;
    if (inputGradient) {
      gradAtInput =
          workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, x.dataType(), x.shape());
      ConvolutionGemms.matmul(
          d, ConvolutionGemms.rows(weights), ConvolutionGemms.rows(gradAtInput, cIn), false, false);
    }
    return new Pair<>(ConvolutionGemms.gradient(bias, biasGradView, weightGradView), gradAtInput);
  }

  /**
   * Whether the convolution is a dense layer in disguise: NCHW FP32, a 1×1 kernel at stride 1
   * without dilation or padding, over a 1×1 map.
   */
  private static boolean isDense(
      INDArray input,
      INDArray weights,
      INDArray bias,
      int[] kernel,
      int[] strides,
      int[] pad,
      ConvolutionMode convolutionMode,
      int[] dilation,
      CNN2DFormat format) {
    return format == CNN2DFormat.NCHW
        && input.rank() == 4
        && input.size(2) == 1
        && input.size(3) == 1
        && TrainingConvolution.isPointwise(kernel, strides, dilation, pad, convolutionMode)
        && input.dataType() == DataType.FLOAT
        && weights.dataType() == DataType.FLOAT
        && (bias == null || bias.dataType() == DataType.FLOAT);
  }

  /**
   * The padding {@code [pH, pW]} on each side when the GEMM passes apply (stride 1, dilation 1, the
   * same padding before and after, at most {@code k - 1}); else null.
   */
  private static int[] strideOnePadding(
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
