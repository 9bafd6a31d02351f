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
 * {@link ChannelsLastPasses} against ND4J's reductions and broadcasts over NHWC maps: the
 * EfficientNetB0 block's shape (split across threads), a map with one sample, one channel, or one
 * pixel, and maps that start inside a larger buffer.
 */
class ChannelsLastPassesTest {

  @BeforeAll
  static void natives() {
    NativeTuning.apply();
  }

  @Test
  void poolingSqueezeAndExcitationAndTheirGradientsMatchNd4j() {
    Nd4j.getRandom().setSeed(11);
    for (long[] shape :
        new long[][] {
          {16, 7, 7, 1152}, {1, 5, 9, 3}, {3, 4, 4, 1}, {4, 1, 1, 20}, {2, 60, 70, 5}
        }) {
      long n = shape[0];
      long rows = shape[1] * shape[2];
      int c = (int) shape[3];
      INDArray x = Nd4j.rand(DataType.FLOAT, shape).subi(0.5);
      INDArray means = Nd4j.createUninitialized(DataType.FLOAT, n, c);
      ChannelsLastPasses.columnMeans(x, means, rows, c);
      FloatChunksTest.assertClose(x.mean(1, 2), means, 1e-6);

      INDArray y = Nd4j.rand(DataType.FLOAT, shape);
      INDArray dots = Nd4j.createUninitialized(DataType.FLOAT, n, c);
      ChannelsLastPasses.columnDots(x, y, dots, rows, c);
      FloatChunksTest.assertClose(x.mul(y).sum(1, 2), dots, 1e-5 * Math.max(1, rows / 100.0));

      INDArray eps = Nd4j.rand(DataType.FLOAT, n, c);
      INDArray spread = Nd4j.createUninitialized(DataType.FLOAT, shape);
      ChannelsLastPasses.spreadColumns(eps, spread, rows, c, rows);
      FloatChunksTest.assertClose(
          eps.reshape(n, 1, 1, c).broadcast(shape).div((float) rows), spread, 0);

      INDArray factors = Nd4j.rand(DataType.FLOAT, n, c);
      INDArray scaled = Nd4j.createUninitialized(DataType.FLOAT, shape);
      ChannelsLastPasses.scaleColumns(x, factors, scaled, rows, c);
      FloatChunksTest.assertClose(x.mul(factors.reshape(n, 1, 1, c).broadcast(shape)), scaled, 0);
      INDArray inPlace = x.dup();
      ChannelsLastPasses.scaleColumns(inPlace, factors, inPlace, rows, c);
      FloatChunksTest.assertClose(scaled, inPlace, 0);
    }
  }

  @Test
  void mapsInsideALargerBufferAreReadFromTheirOwnStart() {
    Nd4j.getRandom().setSeed(12);
    INDArray both = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 4, 6);
    INDArray second = both.get(NDArrayIndex.point(1));
    assertTrue(FloatChunks.dense(second) && second.offset() > 0);
    INDArray means = Nd4j.createUninitialized(DataType.FLOAT, 3, 6);
    ChannelsLastPasses.columnMeans(second, means, 16, 6);
    FloatChunksTest.assertClose(second.mean(1, 2), means, 1e-6);
    INDArray out = Nd4j.zeros(DataType.FLOAT, 2, 3, 4, 4, 6);
    ChannelsLastPasses.spreadColumns(means, out.get(NDArrayIndex.point(1)), 16, 6, 1);
    assertEquals(0.0, out.get(NDArrayIndex.point(0)).amaxNumber().doubleValue());
    FloatChunksTest.assertClose(
        means.reshape(3, 1, 1, 6).broadcast(3, 4, 4, 6), out.get(NDArrayIndex.point(1)), 0);
  }

  @Test
  void depthwiseWeightGradientIsLibnd4jsOnChannelsLastMaps() {
    Nd4j.getRandom().setSeed(13);
    // {n, h, w, c, kh, kw}: the EfficientNetB0 block's, a 5x5 kernel, a non-square one, a map
    // smaller than the kernel, one channel
    for (int[] t :
        new int[][] {
          {16, 7, 7, 1152, 3, 3},
          {3, 9, 6, 40, 5, 5},
          {2, 5, 8, 7, 3, 1},
          {2, 2, 2, 3, 5, 5},
          {4, 6, 6, 1, 3, 3}
        }) {
      int ph = (t[4] - 1) / 2;
      int pw = (t[5] - 1) / 2;
      INDArray x = Nd4j.rand(DataType.FLOAT, t[0], t[1], t[2], t[3]).subi(0.5);
      INDArray delta = Nd4j.rand(DataType.FLOAT, t[0], t[1], t[2], t[3]).subi(0.5);
      INDArray weights = Nd4j.rand(DataType.FLOAT, t[4], t[5], t[3], 1);
      INDArray expected = Nd4j.create(DataType.FLOAT, t[4], t[5], t[3], 1);
      INDArray gradAtInput = Nd4j.create(DataType.FLOAT, t[0], t[1], t[2], t[3]);
      Nd4j.exec(
          org.nd4j.linalg.api.ops.DynamicCustomOp.builder("depthwise_conv2d_bp")
              .addInputs(x, weights, delta)
              .addOutputs(gradAtInput, expected)
              .addIntegerArguments(t[4], t[5], 1, 1, ph, pw, 1, 1, 0, 1)
              .build());
      INDArray actual = Nd4j.create(DataType.FLOAT, t[4], t[5], t[3], 1);
      ChannelsLastPasses.depthwiseWeightGradient(x, delta, t[4], t[5], ph, pw, actual);
      double scale = Math.max(1, expected.amaxNumber().doubleValue());
      FloatChunksTest.assertClose(expected, actual, 2e-6 * scale * t[0] * t[1] * t[2] / 16);
    }
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 4, 4, 3);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ChannelsLastPasses.depthwiseWeightGradient(
                x, Nd4j.rand(DataType.FLOAT, 2, 4, 4, 4), 3, 3, 1, 1, Nd4j.create(3, 3, 3, 1)));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ChannelsLastPasses.depthwiseWeightGradient(
                x, x, 3, 3, 1, 1, Nd4j.create(DataType.FLOAT, 3, 3, 4, 1)));
  }

  @Test
  void mismatchedOrStridedArraysAreRefused() {
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 3, 4);
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 2, 4);
    IllegalArgumentException wrongRows =
        assertThrows(
            IllegalArgumentException.class, () -> ChannelsLastPasses.columnMeans(x, out, 8, 4));
    assertTrue(wrongRows.getMessage().contains("[samples, 8, 4]"), wrongRows.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> ChannelsLastPasses.columnMeans(x, out, 9, 3));
    // an NCHW view of the map is not what the passes walk
    assertThrows(
        IllegalArgumentException.class,
        () -> ChannelsLastPasses.columnMeans(x.permute(0, 3, 1, 2), out, 9, 4));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ChannelsLastPasses.columnMeans(
                x.castTo(DataType.DOUBLE), out.castTo(DataType.DOUBLE), 9, 4));
  }
}
