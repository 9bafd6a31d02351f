package dev.graft.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link FloatChunks}' passes against ND4J's own ops, on sizes that cross its chunk boundaries and
 * its split across threads: rows shorter than a chunk, rows longer than one, one-element rows, and
 * arrays that start inside a larger buffer.
 */
class FloatChunksTest {

  @BeforeAll
  static void natives() {
    NativeTuning.apply();
  }

  static void assertClose(INDArray expected, INDArray actual, double tolerance) {
    assertEquals(expected.length(), actual.length());
    double diff =
        expected
            .reshape(expected.length())
            .sub(actual.reshape(actual.length()))
            .amaxNumber()
            .doubleValue();
    assertTrue(diff <= tolerance, "max difference " + diff);
  }

  @Test
  void rowMeansDotsAndTheGradientMatchNd4j() {
    Nd4j.getRandom().setSeed(5);
    for (long[] shape :
        new long[][] {{16, 1152, 7, 7}, {3, 5, 80, 90}, {2, 3, 1, 1}, {1, 70000, 1, 1}}) {
      INDArray x = Nd4j.rand(DataType.FLOAT, shape).subi(0.5);
      long rowLength = shape[2] * shape[3];
      INDArray means = Nd4j.createUninitialized(DataType.FLOAT, shape[0], shape[1]);
      FloatChunks.rowMeans(x, means, rowLength);
      assertClose(x.mean(2, 3), means, 1e-6);
      INDArray y = Nd4j.rand(DataType.FLOAT, shape);
      INDArray dots = Nd4j.createUninitialized(DataType.FLOAT, shape[0], shape[1]);
      FloatChunks.rowDots(x, y, dots, rowLength);
      assertClose(x.mul(y).sum(2, 3), dots, 1e-5 * Math.max(1, rowLength / 100.0));
      INDArray eps = Nd4j.rand(DataType.FLOAT, shape[0], shape[1]);
      INDArray spread = Nd4j.createUninitialized(DataType.FLOAT, shape);
      FloatChunks.spreadRows(eps, spread, rowLength, rowLength);
      INDArray expected =
          eps.reshape(shape[0], shape[1], 1, 1).broadcast(shape).div((float) rowLength);
      assertClose(expected, spread, 0);
    }
  }

  @Test
  void channelAffineMatchesNd4jInEitherLayout() {
    Nd4j.getRandom().setSeed(6);
    int c = 37;
    float[] center = Nd4j.rand(DataType.FLOAT, c).toFloatVector();
    float[] scale = Nd4j.rand(DataType.FLOAT, c).subi(0.5).toFloatVector();
    float[] offset = Nd4j.rand(DataType.FLOAT, c).toFloatVector();
    INDArray m = Nd4j.createFromArray(center);
    INDArray s = Nd4j.createFromArray(scale);
    INDArray o = Nd4j.createFromArray(offset);
    // NCHW with runs shorter and longer than a chunk
    for (long[] shape : new long[][] {{9, c, 7, 7}, {2, c, 70, 80}}) {
      INDArray x = Nd4j.rand(DataType.FLOAT, shape);
      INDArray y = Nd4j.createUninitialized(DataType.FLOAT, shape);
      FloatChunks.channelAffine(x, y, c, shape[2] * shape[3], center, scale, offset);
      INDArray expected =
          x.sub(m.reshape(1, c, 1, 1).broadcast(shape))
              .muli(s.reshape(1, c, 1, 1).broadcast(shape))
              .addi(o.reshape(1, c, 1, 1).broadcast(shape));
      assertClose(expected, y, 1e-6);
    }
    // channels last, in place, over more than one thread's share: row by row (37 and 1152
    // channels) and in chunks (5)
    for (int channels : new int[] {c, 5, 1152}) {
      float[] ce = Nd4j.rand(DataType.FLOAT, channels).toFloatVector();
      float[] sc = Nd4j.rand(DataType.FLOAT, channels).subi(0.5).toFloatVector();
      float[] of = Nd4j.rand(DataType.FLOAT, channels).toFloatVector();
      long[] nhwc = {40, 45, 1, channels};
      INDArray x = Nd4j.rand(DataType.FLOAT, nhwc);
      INDArray expected =
          x.sub(Nd4j.createFromArray(ce).reshape(1, 1, 1, channels).broadcast(nhwc))
              .muli(Nd4j.createFromArray(sc).reshape(1, 1, 1, channels).broadcast(nhwc))
              .addi(Nd4j.createFromArray(of).reshape(1, 1, 1, channels).broadcast(nhwc));
      FloatChunks.channelAffine(x, x, channels, 1, ce, sc, of);
      assertClose(expected, x, 1e-6);
    }
  }

  @Test
  void clampAndItsGradientAreDl4jsReluAndRelu6() {
    Nd4j.getRandom().setSeed(8);
    INDArray x = Nd4j.rand(DataType.FLOAT, 16, 64, 9, 9).subi(0.5).muli(20);
    float[] edges = {0f, 6f, -0f, Float.NaN, 6.0000005f, -1e-30f};
    for (int i = 0; i < edges.length; i++) {
      x.putScalar(i, edges[i]);
    }
    INDArray eps = Nd4j.rand(DataType.FLOAT, x.shape()).addi(0.5);
    for (float high : new float[] {6f, Float.POSITIVE_INFINITY}) {
      var fn =
          high == 6f
              ? new org.nd4j.linalg.activations.impl.ActivationReLU6()
              : new org.nd4j.linalg.activations.impl.ActivationReLU();
      INDArray out = x.ulike();
      FloatChunks.clamp(x, out, 0f, high);
      INDArray expected = fn.getActivation(x.dup(), true);
      // NaN stays NaN (as DL4J's ReLU keeps it; libnd4j's ReLU6 turns it into 6)
      assertTrue(Float.isNaN(out.getFloat(3)), "NaN propagates");
      out.putScalar(3, 0f);
      expected.putScalar(3, 0f);
      assertEquals(expected, out, "forward, high " + high);
      INDArray grad = x.ulike();
      FloatChunks.clampGradient(x, eps, grad, high);
      INDArray expectedGrad =
          high == 6f
              // DL4J's ReLU6 derivative is a step at 0 minus a step at 6: 1 on (0, 6]
              ? x.gt(0).castTo(DataType.FLOAT).subi(x.gt(6).castTo(DataType.FLOAT)).muli(eps)
              : fn.backprop(x.dup(), eps.dup()).getFirst();
      assertEquals(expectedGrad, grad, "backward, high " + high);
    }
  }

  @Test
  void swappingTheLeadingAxesIsNd4jsPermutedCopy() {
    Nd4j.getRandom().setSeed(12);
    // batch-major activations to channel-major: split across threads, a small one on one thread,
    // blocks of one element, and a dense view that starts inside a larger buffer
    for (long[] shape :
        new long[][] {{16, 192, 7, 7}, {3, 5, 2, 2}, {7, 9}, {2, 3, 4, 5, 6}, {16, 1152, 7, 7}}) {
      INDArray x = Nd4j.rand(DataType.FLOAT, shape);
      long[] swapped = shape.clone();
      swapped[0] = shape[1];
      swapped[1] = shape[0];
      INDArray out = Nd4j.createUninitialized(DataType.FLOAT, swapped);
      FloatChunks.swapLeadingAxes(x, out);
      int[] axes = java.util.stream.IntStream.range(0, shape.length).toArray();
      axes[0] = 1;
      axes[1] = 0;
      assertEquals(x.permute(axes).dup('c'), out, java.util.Arrays.toString(shape));
    }
    INDArray big = Nd4j.rand(DataType.FLOAT, 3, 4, 5, 6);
    INDArray inner = big.get(NDArrayIndex.point(1)); // [4, 5, 6] at element 120
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 5, 4, 6);
    FloatChunks.swapLeadingAxes(inner, out);
    assertEquals(inner.permute(1, 0, 2).dup('c'), out);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            FloatChunks.swapLeadingAxes(
                Nd4j.rand(DataType.FLOAT, 3, 4), Nd4j.createUninitialized(DataType.FLOAT, 3, 4)));
  }

  @Test
  void aDenseViewIsWalkedFromItsOwnFirstElement() {
    INDArray big = Nd4j.arange(0, 30000).castTo(DataType.FLOAT).reshape(3, 10000);
    INDArray row = big.get(NDArrayIndex.point(1), NDArrayIndex.all()); // starts at element 10000
    assertTrue(FloatChunks.dense(row));
    assertEquals(10000f, FloatChunks.values(row)[0]);
    assertEquals(19999f, FloatChunks.values(row)[9999]);
    INDArray means = Nd4j.createUninitialized(DataType.FLOAT, 2);
    FloatChunks.rowMeans(row, means, 5000);
    assertEquals(12499.5f, means.getFloat(0), 1e-2);
    assertEquals(17499.5f, means.getFloat(1), 1e-2);
  }

  @Test
  void otherLayoutsAreRefused() {
    INDArray f = Nd4j.rand(DataType.FLOAT, 4, 6).dup('f');
    INDArray strided =
        Nd4j.rand(DataType.FLOAT, 4, 6).get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2, 6));
    assertTrue(!FloatChunks.dense(f) && !FloatChunks.dense(strided));
    assertTrue(!FloatChunks.dense(Nd4j.rand(DataType.DOUBLE, 4, 6)));
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 4);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FloatChunks.rowMeans(f, out, 6));
    assertTrue(e.getMessage().contains("dense FP32"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> FloatChunks.values(strided));
  }
}
