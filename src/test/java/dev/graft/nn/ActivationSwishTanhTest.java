package dev.graft.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link ActivationSwishTanh} against ND4J's swish, in place and from a halved input. */
class ActivationSwishTanhTest {

  private static INDArray swish(INDArray x) {
    return new ActivationSwish().getActivation(x.dup(), false);
  }

  private static void assertClose(INDArray expected, INDArray actual) {
    double diff = expected.sub(actual).amaxNumber().doubleValue();
    assertTrue(diff <= 2e-6 * Math.max(1, expected.amaxNumber().doubleValue()), "max diff " + diff);
  }

  @Test
  void computesSwishFromTheInputAndFromItsHalf() {
    Nd4j.getRandom().setSeed(4);
    // NHWC-like activations spanning swish's regions: large negative, around 0, large positive
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 5, 7, 24).subi(0.5).muli(40);
    x.putScalar(new long[] {0, 0, 0, 0}, 0f);
    x.putScalar(new long[] {0, 0, 0, 1}, -90f);
    INDArray expected = swish(x);
    INDArray in = x.dup();
    INDArray out = new ActivationSwishTanh().getActivation(in, false);
    assertClose(expected, out);
    assertTrue(out == in, "in place");
    assertClose(expected, ActivationSwishTanh.ofHalf(x.mul(0.5)));
    assertEquals(0.0, out.getDouble(0, 0, 0, 0), 0.0);
    // a non-contiguous view (what a permuted layout hands over)
    INDArray view = x.permute(0, 3, 1, 2);
    assertClose(swish(view), new ActivationSwishTanh().getActivation(view.dup('f'), false));
  }

  @Test
  void backpropagatesAsSwishAndSavesWithTheGraph() {
    INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 8).subi(0.5).muli(6);
    INDArray eps = Nd4j.rand(DataType.DOUBLE, 3, 8);
    assertClose(
        new ActivationSwish().backprop(x.dup(), eps.dup()).getFirst(),
        new ActivationSwishTanh().backprop(x.dup(), eps.dup()).getFirst());
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.feedForward(8))
                .addLayer("swish", new ActivationLayer(new ActivationSwishTanh()), "in")
                .setOutputs("swish")
                .build());
    g.init();
    String json = g.getConfiguration().toJson();
    assertTrue(json.contains("ActivationSwishTanh"), json);
    var back = org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(json);
    ActivationLayer l =
        (ActivationLayer)
            ((org.deeplearning4j.nn.conf.graph.LayerVertex) back.getVertices().get("swish"))
                .getLayerConf()
                .getLayer();
    assertEquals(new ActivationSwishTanh(), l.getActivationFn());
  }

  @Test
  void backpropagatesInFloatAsSwishInDouble() {
    // FP32, dense: the one-pass path, split across threads (over 65,536 elements); then the same
    // values through a transposed epsilon, which takes ND4J's passes
    Nd4j.getRandom().setSeed(9);
    INDArray x = Nd4j.rand(DataType.FLOAT, 16, 96, 7, 7).subi(0.5).muli(30);
    x.putScalar(new long[] {0, 0, 0, 0}, 0f);
    x.putScalar(new long[] {0, 0, 0, 1}, -90f);
    x.putScalar(new long[] {0, 0, 0, 2}, 90f);
    INDArray eps = Nd4j.rand(DataType.FLOAT, x.shape()).subi(0.5);
    INDArray expected =
        new ActivationSwish()
            .backprop(x.castTo(DataType.DOUBLE), eps.castTo(DataType.DOUBLE))
            .getFirst();
    INDArray epsBefore = eps.dup();
    INDArray fast = new ActivationSwishTanh().backprop(x.dup(), eps).getFirst();
    assertEquals(epsBefore, eps, "epsilon is left as it was");
    assertClose(expected.castTo(DataType.FLOAT), fast);
    INDArray fallback = new ActivationSwishTanh().backprop(x.dup('f'), eps.dup('f')).getFirst();
    assertClose(expected.castTo(DataType.FLOAT), fallback);
  }

  @Test
  void bothPassesFromAKeptTanhMatchSwishInDouble() {
    // what a training activation layer keeps: tanh(x/2); each pass is one pass from there
    Nd4j.getRandom().setSeed(11);
    INDArray x = Nd4j.rand(DataType.FLOAT, 16, 96, 7, 7).subi(0.5).muli(30);
    x.putScalar(new long[] {0, 0, 0, 0}, 0f);
    x.putScalar(new long[] {0, 0, 0, 1}, -90f);
    INDArray eps = Nd4j.rand(DataType.FLOAT, x.shape()).subi(0.5);
    INDArray half = x.mul(0.5);
    INDArray tanh = org.nd4j.linalg.ops.transforms.Transforms.tanh(half, true);
    INDArray tanhBefore = tanh.dup();
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
    ActivationSwishTanh.fromTanh(half, tanh, out);
    assertClose(swish(x.castTo(DataType.DOUBLE)).castTo(DataType.FLOAT), out);
    assertEquals(tanhBefore, tanh, "the kept tanh is read, not written");
    INDArray grad = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
    ActivationSwishTanh.gradientFromTanh(x, 0.5f, tanh, eps, grad);
    INDArray expected =
        new ActivationSwish()
            .backprop(x.castTo(DataType.DOUBLE), eps.castTo(DataType.DOUBLE))
            .getFirst();
    assertClose(expected.castTo(DataType.FLOAT), grad);
    // in place over the tanh, as the layer does without a cache
    ActivationSwishTanh.fromTanh(half, tanh, tanh);
    assertClose(out, tanh);
  }
}
