package dev.graft.base.torch;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How one PyTorch tensor becomes one DL4J parameter: which file shapes fit a parameter of a given
 * shape (checked on the header, before any data is read), and the rearrangement of the values. The
 * constants cover convolutions, linear layers, norms and biases; an architecture with another
 * layout (a fused qkv projection, an interpolated position embedding) implements its own.
 */
public interface TensorConversion {
  /** Whether a file tensor of shape {@code source} can fill a parameter of shape {@code target}. */
  boolean fits(long[] source, long[] target);

  /** The file shape(s) expected for {@code target}, for messages. */
  String expected(long[] target);

  /**
   * The values of {@code source} laid out as the parameter (shape {@code target}); called only when
   * {@link #fits} holds.
   */
  INDArray apply(INDArray source, long[] target);

  /**
   * The same values in the same (row-major) order, shapes equal once sizes of 1 are dropped:
   * convolution kernels {@code [out, in, kh, kw]}, biases and norm vectors ({@code [C]} in PyTorch,
   * {@code [1, C]} in DL4J), torchvision's layer scale {@code [C, 1, 1]}.
   */
  TensorConversion SAME =
      new TensorConversion() {
        @Override
        public boolean fits(long[] source, long[] target) {
          return Arrays.equals(squeeze(source), squeeze(target));
        }

        @Override
        public String expected(long[] target) {
          return Arrays.toString(squeeze(target)) + " (sizes of 1 aside)";
        }

        @Override
        public INDArray apply(INDArray source, long[] target) {
          return source.reshape('c', target);
        }
      };

  /** A linear layer's weight: PyTorch {@code [out, in]}, DL4J {@code [in, out]}. */
  TensorConversion TRANSPOSE =
      new TensorConversion() {
        @Override
        public boolean fits(long[] source, long[] target) {
          return source.length == 2
              && target.length == 2
              && source[0] == target[1]
              && source[1] == target[0];
        }

        @Override
        public String expected(long[] target) {
          return "[" + target[1] + ", " + target[0] + "]";
        }

        @Override
        public INDArray apply(INDArray source, long[] target) {
          return source.transpose().dup('c');
        }
      };

  /**
   * A 1×1 convolution stored as a linear layer (ConvNeXt's pointwise MLP): PyTorch {@code [out,
   * in]}, DL4J {@code [out, in, 1, 1]}.
   */
  TensorConversion LINEAR_AS_1X1 =
      new TensorConversion() {
        @Override
        public boolean fits(long[] source, long[] target) {
          return target.length == 4
              && target[2] == 1
              && target[3] == 1
              && Arrays.equals(source, new long[] {target[0], target[1]});
        }

        @Override
        public String expected(long[] target) {
          return "[" + target[0] + ", " + target[1] + "]";
        }

        @Override
        public INDArray apply(INDArray source, long[] target) {
          return source.reshape('c', target);
        }
      };

  /**
   * A depthwise convolution: PyTorch {@code [C, 1, kh, kw]} (groups = C), DL4J's {@code
   * DepthwiseConvolution2D} {@code [kh, kw, C, 1]}.
   */
  TensorConversion DEPTHWISE =
      new TensorConversion() {
        @Override
        public boolean fits(long[] source, long[] target) {
          return target.length == 4
              && Arrays.equals(source, new long[] {target[2], target[3], target[0], target[1]});
        }

        @Override
        public String expected(long[] target) {
          return "[" + target[2] + ", " + target[3] + ", " + target[0] + ", " + target[1] + "]";
        }

        @Override
        public INDArray apply(INDArray source, long[] target) {
          return source.permute(2, 3, 0, 1).dup('c');
        }
      };

  /** {@code shape} without its sizes of 1. */
  static long[] squeeze(long[] shape) {
    return Arrays.stream(shape).filter(s -> s != 1).toArray();
  }
}
