package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.perf.NativeTuning;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link InferenceBatchNormLayer}'s one-pass forward and backward (dense FP32) against DL4J's
 * BatchNormalization in inference mode and against the gradient {@code dy · gamma / sqrt(var +
 * eps)} computed in double precision, in each layout and parameterisation it takes, and on the
 * arrays it hands to DL4J's path.
 */
class InferenceBatchNormLayerTest {
  private static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

  @BeforeAll
  static void natives() {
    NativeTuning.apply();
  }

  /** The inference-mode layer of a one-layer graph, with statistics away from 0 and 1. */
  private static InferenceBatchNormLayer layer(
      InputType in, BatchNormalization.Builder bn, int channels) {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(in)
                .addLayer("bn", new InferenceBatchNorm(bn.nOut(channels).build()), "in")
                .setOutputs("bn")
                .build());
    g.init();
    Nd4j.getRandom().setSeed(11);
    Layer inner = ((InferenceBatchNormLayer) g.getLayer("bn")).getInsideLayer();
    for (String p : inner.paramTable().keySet()) {
      INDArray v = Nd4j.rand(DataType.FLOAT, 1, channels);
      switch (p) {
        case "mean" -> v.subi(0.5).muli(4);
        case "var" -> v.muli(3).addi(0.01);
        case "log10stdev" -> v.subi(0.5);
        default -> v.subi(0.5).muli(3); // gamma, beta
      }
      inner.setParam(p, v);
    }
    return (InferenceBatchNormLayer) g.getLayer("bn");
  }

  /** dy · gamma / sqrt(var + eps), in double, from the layer's own parameters. */
  private static INDArray expectedGradient(
      InferenceBatchNormLayer l, INDArray eps, int channelAxis) {
    Layer inner = l.getInsideLayer();
    BatchNormalization conf = (BatchNormalization) inner.conf().getLayer();
    long c = conf.getNOut();
    INDArray var;
    if (conf.isUseLogStd()) {
      // DL4J keeps log10 of the standard deviation
      INDArray log10 = inner.getParam("log10stdev").castTo(DataType.DOUBLE).reshape(c);
      var = Nd4j.zeros(DataType.DOUBLE, c);
      for (long i = 0; i < c; i++) {
        double std = Math.pow(10, log10.getDouble(i));
        var.putScalar(i, std * std);
      }
    } else {
      var = inner.getParam("var").castTo(DataType.DOUBLE).reshape(c);
    }
    INDArray gamma =
        conf.isLockGammaBeta()
            ? Nd4j.valueArrayOf(new long[] {c}, conf.getGamma(), DataType.DOUBLE)
            : inner.getParam("gamma").castTo(DataType.DOUBLE).reshape(c);
    INDArray scale =
        gamma.div(org.nd4j.linalg.ops.transforms.Transforms.sqrt(var.add(conf.getEps()), false));
    long[] shape = new long[eps.rank()];
    java.util.Arrays.fill(shape, 1);
    shape[channelAxis] = c;
    INDArray e = eps.castTo(DataType.DOUBLE);
    return e.mul(scale.reshape(shape).broadcast(e.shape()));
  }

  private static void assertClose(INDArray expected, INDArray actual, double tolerance) {
    assertArrayEquals(expected.shape(), actual.shape());
    INDArray e = expected.castTo(DataType.DOUBLE);
    double diff = e.sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    double scale = Math.max(1, e.amaxNumber().doubleValue());
    assertTrue(diff <= tolerance * scale, "max difference " + diff + " (scale " + scale + ")");
  }

  /** Forward against DL4J's layer, backward against double precision. */
  private static void check(InferenceBatchNormLayer l, INDArray x, int channelAxis) {
    Layer inner = l.getInsideLayer();
    inner.setInput(x.dup(), NO_WS);
    INDArray expected = inner.activate(false, NO_WS).dup();
    l.setInput(x, NO_WS);
    INDArray y = l.activate(true, NO_WS);
    assertClose(expected, y, 2e-6);
    assertTrue(y != x, "the input is left as it was");
    INDArray eps = Nd4j.rand(DataType.FLOAT, x.shape()).subi(0.5);
    INDArray epsBefore = eps.dup();
    var back = l.backpropGradient(eps, NO_WS);
    assertClose(expectedGradient(l, epsBefore, channelAxis), back.getSecond(), 2e-6);
    assertEquals(epsBefore, eps, "epsilon is left as it was");
    assertTrue(
        back.getFirst().gradientForVariable().isEmpty()
            || back.getFirst().gradientForVariable().values().stream()
                .allMatch(g -> g.sumNumber().doubleValue() == 0),
        "no parameter gradient");
  }

  @Test
  void nchwNhwcAndDenseInputsMatchDl4jsBatchNorm() {
    // a 7x7 map, as in the fine-tuned blocks; more than one chunk and more than one thread's share
    Nd4j.getRandom().setSeed(3);
    InferenceBatchNormLayer nchw =
        layer(InputType.convolutional(7, 7, 96), new BatchNormalization.Builder(), 96);
    check(nchw, Nd4j.rand(DataType.FLOAT, 16, 96, 7, 7).subi(0.5).muli(8), 1);
    // odd sizes: channel runs that straddle chunk boundaries
    InferenceBatchNormLayer odd =
        layer(InputType.convolutional(13, 11, 37), new BatchNormalization.Builder(), 37);
    check(odd, Nd4j.rand(DataType.FLOAT, 5, 37, 13, 11), 1);
    InferenceBatchNormLayer nhwc =
        layer(
            InputType.convolutional(9, 9, 40, CNN2DFormat.NHWC),
            new BatchNormalization.Builder().dataFormat(CNN2DFormat.NHWC),
            40);
    check(nhwc, Nd4j.rand(DataType.FLOAT, 16, 9, 9, 40).muli(3), 3);
    InferenceBatchNormLayer dense =
        layer(InputType.feedForward(300), new BatchNormalization.Builder(), 300);
    check(dense, Nd4j.rand(DataType.FLOAT, 250, 300), 1);
  }

  @Test
  void lockedGammaBetaAndLogStdAreHonoured() {
    InferenceBatchNormLayer locked =
        layer(
            InputType.convolutional(5, 5, 12),
            new BatchNormalization.Builder().lockGammaBeta(true).gamma(1.5).beta(-0.25),
            12);
    check(locked, Nd4j.rand(DataType.FLOAT, 4, 12, 5, 5), 1);
    InferenceBatchNormLayer logStd =
        layer(
            InputType.convolutional(5, 5, 12),
            new BatchNormalization.Builder().useLogStd(true),
            12);
    check(logStd, Nd4j.rand(DataType.FLOAT, 4, 12, 5, 5), 1);
  }

  @Test
  void viewsAndOtherOrdersTakeDl4jsPathWithTheSameResult() {
    InferenceBatchNormLayer l =
        layer(InputType.convolutional(6, 6, 10), new BatchNormalization.Builder(), 10);
    INDArray big = Nd4j.rand(DataType.FLOAT, 4, 20, 6, 6);
    // every other channel: a strided view, not one dense run
    INDArray view =
        big.get(
            org.nd4j.linalg.indexing.NDArrayIndex.all(),
            org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2, 20),
            org.nd4j.linalg.indexing.NDArrayIndex.all(),
            org.nd4j.linalg.indexing.NDArrayIndex.all());
    check(l, view, 1);
    check(l, Nd4j.rand(DataType.FLOAT, 4, 10, 6, 6).dup('f'), 1);
  }
}
