package dev.graft.base.inception;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Keras's {@code scale=False}: training moves beta, never gamma; the constraint survives saving.
 */
class UnitGammaTest {

  @TempDir Path dir;

  @Test
  void trainingKeepsGammaAtOneAndMovesBeta() throws IOException {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(3)
                .updater(new Adam(0.1))
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(6, 6, 2))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "in")
                .addLayer(
                    "bn",
                    new BatchNormalization.Builder()
                        .constrainAllParameters(new UnitGamma())
                        .build(),
                    "conv")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn")
                .addLayer(
                    "out",
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(3)
                        .activation(Activation.SOFTMAX)
                        .build(),
                    "gap")
                .setOutputs("out")
                .build());
    g.init();
    INDArray beta0 = g.getLayer("bn").getParam("beta").dup();
    INDArray labels = Nd4j.zeros(DataType.FLOAT, 8, 3);
    for (int i = 0; i < 8; i++) {
      labels.putScalar(i, i % 3, 1);
    }
    DataSet data = new DataSet(Nd4j.rand(DataType.FLOAT, 8, 2, 6, 6), labels);
    for (int i = 0; i < 5; i++) {
      g.fit(data);
    }
    assertEquals(Nd4j.ones(DataType.FLOAT, 1, 4), g.getLayer("bn").getParam("gamma").reshape(1, 4));
    assertNotEquals(beta0, g.getLayer("bn").getParam("beta"));

    Path zip = dir.resolve("bn.zip");
    ModelSerializer.writeModel(g, zip.toFile(), false);
    ComputationGraph back = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
    assertEquals(g.getConfiguration(), back.getConfiguration());
    assertTrue(back.getLayer("bn").conf().getLayer().getConstraints().get(0) instanceof UnitGamma);
  }

  @Test
  void everyInceptionBatchNormCarriesItThroughJson() {
    // JSON of an initialised graph, as ModelSerializer writes it: DL4J's reader decides whether a
    // BatchNormalization stores variance or log10 std from the variables init() registered
    ComputationGraphConfiguration conf = InceptionV3.build(75, 1).getConfiguration();
    ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
    assertEquals(conf.toJson(), back.toJson());
    assertEquals(conf, back);
    long constrained =
        back.getVertices().values().stream()
            .filter(
                v ->
                    v instanceof LayerVertex lv
                        && lv.getLayerConf().getLayer() instanceof BatchNormalization)
            .filter(
                v ->
                    ((LayerVertex) v).getLayerConf().getLayer().getConstraints().get(0)
                        instanceof UnitGamma)
            .count();
    assertEquals(94, constrained);
  }
}
