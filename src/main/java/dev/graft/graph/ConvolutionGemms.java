package dev.graft.graph;

import dev.graft.perf.FloatChunks;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A convolution's gradients as GEMMs through libnd4j's {@code matmul} (oneDNN's GEMM on the oneDNN
 * build), for {@link TrainingConvolutionHelper}: the weight gradient of a stride-1 convolution over
 * its columns, and the pieces the dense (1×1 on 1×1) pass shares with it.
 */
final class ConvolutionGemms {
  private ConvolutionGemms() {}

  /**
   * The weight (and bias) gradient of a stride-1 convolution as one GEMM: {@code [cOut, n·oh·ow] ×
   * [cIn·kh·kw, n·oh·ow]ᵀ}. The columns are copied out of a zero-padded, channel-major copy of the
   * input, one kernel offset at a time; for a 1×1 kernel without padding the channel-major copy is
   * the columns.
   */
  static Gradient weightGradient(
      INDArray input,
      INDArray bias,
      INDArray delta,
      int[] kernel,
      int[] p,
      INDArray biasGradView,
      INDArray weightGradView,
      LayerWorkspaceMgr workspaceMgr) {
    int kh = kernel[0];
    int kw = kernel[1];
    long n = input.size(0);
    long cIn = input.size(1);
    long h = input.size(2);
    long w = input.size(3);
    long cOut = delta.size(1);
    long oh = delta.size(2);
    long ow = delta.size(3);
    INDArray columns =
        workspaceMgr.createUninitialized(
            ArrayType.BP_WORKING_MEM, DataType.FLOAT, cIn, kh, kw, n, oh, ow);
    if (kh == 1 && kw == 1 && p[0] == 0 && p[1] == 0) {
      channelMajor(input, columns.reshape('c', cIn, n, oh, ow));
    } else {
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
    }
    INDArray deltaByChannel =
        workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, cOut, n, oh, ow);
    channelMajor(delta, deltaByChannel);
    INDArray deltaRows = deltaByChannel.reshape('c', cOut, n * oh * ow);
    writeWeightGradient(
        deltaRows,
        columns.reshape('c', cIn * kh * kw, n * oh * ow),
        false,
        bias,
        deltaRows,
        1,
        biasGradView,
        weightGradView);
    return gradient(bias, biasGradView, weightGradView);
  }

  /** {@code out = x} permuted from {@code [n, c, h, w]} to {@code [c, n, h, w]}. */
  static void channelMajor(INDArray x, INDArray out) {
    if (FloatChunks.dense(x) && FloatChunks.dense(out)) {
      FloatChunks.swapLeadingAxes(x, out);
    } else {
      out.assign(x.permute(1, 0, 2, 3));
    }
  }

  /**
   * Writes {@code a·bᵀ} (or {@code aᵀ·b} when {@code aTransposed}) into the weight gradient, and
   * the sums of {@code biasSource} along {@code biasAxis} into the bias gradient when the layer has
   * a bias.
   */
  static void writeWeightGradient(
      INDArray a,
      INDArray b,
      boolean aTransposed,
      INDArray bias,
      INDArray biasSource,
      int biasAxis,
      INDArray biasGradView,
      INDArray weightGradView) {
    long cOut = weightGradView.size(0);
    INDArray weightGrad2d = weightGradView.reshape('c', cOut, weightGradView.length() / cOut);
    matmul(a, b, weightGrad2d, aTransposed, !aTransposed);
    if (weightGrad2d.data() != weightGradView.data()
        || weightGrad2d.offset() != weightGradView.offset()) {
      weightGradView.assign(weightGrad2d.reshape(weightGradView.shape()));
    }
    if (biasGradView != null && bias != null) { // DL4J passes a dummy view for no bias
      biasGradView.assign(biasSource.sum(biasAxis).reshape(biasGradView.shape()));
    }
  }

  static Gradient gradient(INDArray bias, INDArray biasGradView, INDArray weightGradView) {
    Gradient g = new DefaultGradient();
    if (biasGradView != null && bias != null) {
      g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
    }
    g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
    return g;
  }

  /** {@code out = op(a)·op(b)} through libnd4j's {@code matmul} (oneDNN's GEMM on this build). */
  static void matmul(INDArray a, INDArray b, INDArray out, boolean ta, boolean tb) {
    Nd4j.exec(
        DynamicCustomOp.builder("matmul")
            .addInputs(a, b)
            .addOutputs(out)
            .addIntegerArguments(ta ? 1 : 0, tb ? 1 : 0)
            .build());
  }

  /**
   * A rank-4 {@code [n, c, 1, 1]} array (or weights {@code [cOut, cIn, 1, 1]}) as {@code [n, c]}.
   */
  static INDArray rows(INDArray x) {
    return x.reshape('c', x.size(0), x.length() / x.size(0));
  }

  /** {@code x} as {@code [length / columns, columns]} rows (a view where {@code x} is dense). */
  static INDArray rows(INDArray x, long columns) {
    return x.reshape('c', x.length() / columns, columns);
  }
}
