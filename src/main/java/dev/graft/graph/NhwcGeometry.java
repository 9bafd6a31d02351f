package dev.graft.graph;

import dev.graft.error.GraftException;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What libnd4j's {@code conv2d} and {@code depthwise_conv2d} are called with for a convolution on
 * NHWC activations: the input, the top/left padding, the output size and whether it runs in "same"
 * mode. A convolution may carry the padding of a {@code ZeroPaddingLayer} that stood before it
 * ({@code [top, bottom, left, right]}): when that padding is what "same" mode pads at this input
 * size (Keras's {@code correct_pad} before a stride-2 convolution is), the convolution runs in
 * "same" mode and no padded copy of the input is made; otherwise the input is padded here, as the
 * layer did.
 *
 * @param input the activations to convolve (the layer's input, or a padded copy)
 * @param pad top and left padding
 * @param outSize output height and width
 * @param same whether libnd4j computes the padding ("same" mode)
 */
record NhwcGeometry(INDArray input, int[] pad, int[] outSize, boolean same) {

  /**
   * The call for {@code conf} on the NHWC activations {@code x}.
   *
   * @param inputPadding the folded {@code ZeroPaddingLayer}'s padding, or null; the convolution is
   *     then in truncate mode without padding of its own
   */
  static NhwcGeometry of(INDArray x, ConvolutionLayer conf, int[] inputPadding) {
    int[] k = conf.getKernelSize();
    int[] s = conf.getStride();
    int[] d = conf.getDilation();
    int[] in = {(int) x.size(1), (int) x.size(2)};
    if (inputPadding != null) {
      int[] same = samePadding(in, k, s, d, inputPadding);
      if (same != null) {
        return new NhwcGeometry(x, same, new int[] {ceil(in[0], s[0]), ceil(in[1], s[1])}, true);
      }
      INDArray padded =
          Nd4j.pad(
              x,
              new int[][] {
                {0, 0},
                {inputPadding[0], inputPadding[1]},
                {inputPadding[2], inputPadding[3]},
                {0, 0}
              });
      return of(padded, conf, null);
    }
    if (conf.getConvolutionMode() == ConvolutionMode.Same) {
      int[] out =
          ConvolutionUtils.getOutputSize(x, k, s, null, ConvolutionMode.Same, d, CNN2DFormat.NHWC);
      return new NhwcGeometry(
          x, ConvolutionUtils.getSameModeTopLeftPadding(out, in, k, s, d), out, true);
    }
    int[] pad = conf.getPadding();
    return new NhwcGeometry(
        x,
        pad,
        ConvolutionUtils.getOutputSize(
            x, k, s, pad, conf.getConvolutionMode(), d, CNN2DFormat.NHWC),
        false);
  }

  /**
   * DL4J's own convolution path (backpropagation) knows nothing of a folded padding: refuses it.
   *
   * @throws GraftException when {@code inputPadding} is set
   */
  static void requireNoInputPadding(int[] inputPadding) {
    if (inputPadding != null) {
      throw new GraftException(
          "a convolution with a folded zero padding runs forward only (an inference graph)");
    }
  }

  /**
   * {@code type} padded by {@code padding} ({@code [top, bottom, left, right]}, or null: {@code
   * type} itself), for the output type of a convolution carrying a folded padding.
   */
  static InputType padded(InputType type, int[] padding) {
    if (padding == null || !(type instanceof InputType.InputTypeConvolutional c)) {
      return type;
    }
    return InputType.convolutional(
        c.getHeight() + padding[0] + padding[1],
        c.getWidth() + padding[2] + padding[3],
        c.getChannels(),
        c.getFormat());
  }

  /**
   * Runs libnd4j's {@code op} ({@code conv2d} or {@code depthwise_conv2d}) on {@link #input} into a
   * new activations array of {@code channels} channels.
   *
   * @param extraArgs integer arguments after the common ten (the weights' layout for conv2d)
   * @param inputs weights, then the bias when there is one
   */
  INDArray run(
      String op,
      ConvolutionLayer conf,
      long channels,
      LayerWorkspaceMgr mgr,
      int[] extraArgs,
      INDArray... inputs) {
    int[] k = conf.getKernelSize();
    int[] s = conf.getStride();
    int[] d = conf.getDilation();
    INDArray out =
        mgr.createUninitialized(
            ArrayType.ACTIVATIONS,
            inputs[0].dataType(),
            new long[] {input.size(0), outSize[0], outSize[1], channels},
            'c');
    int[] args = new int[10 + extraArgs.length];
    int[] common = {k[0], k[1], s[0], s[1], pad[0], pad[1], d[0], d[1], same ? 1 : 0, 1}; // NHWC
    System.arraycopy(common, 0, args, 0, 10);
    System.arraycopy(extraArgs, 0, args, 10, extraArgs.length);
    INDArray[] all = new INDArray[inputs.length + 1];
    all[0] = input;
    System.arraycopy(inputs, 0, all, 1, inputs.length);
    DynamicCustomOp.DynamicCustomOpsBuilder b =
        DynamicCustomOp.builder(op).addIntegerArguments(args).addInputs(all).addOutputs(out);
    Nd4j.exec(b.build());
    return out;
  }

  /**
   * The top/left padding of "same" mode when padding {@code in} by {@code p} and convolving without
   * padding computes the same output ("same" mode's output size, the same top/left padding; rows
   * past the last window are never read); null when it does not.
   */
  static int[] samePadding(int[] in, int[] k, int[] s, int[] d, int[] p) {
    int[] top = new int[2];
    for (int i = 0; i < 2; i++) {
      int before = p[2 * i];
      int after = p[2 * i + 1];
      int kernel = (k[i] - 1) * d[i] + 1;
      int out = ceil(in[i], s[i]);
      int total = (out - 1) * s[i] + kernel - in[i];
      int truncated = (in[i] + before + after - kernel) / s[i] + 1;
      if (total < 0 || total / 2 != before || truncated != out || in[i] + before + after < kernel) {
        return null;
      }
      top[i] = before;
    }
    return top;
  }

  private static int ceil(int a, int b) {
    return (a + b - 1) / b;
  }
}
