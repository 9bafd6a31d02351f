package dev.graft.strategy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.graph.InferenceBatchNormLayer;
import dev.graft.head.Head;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class TransferGraphTest {

  private static TransferGraph assemble(Strategy s, Head h) {
    return SmallNets.transferGraph(h, s, GraphOptions.of(5).withEpochs(2));
  }

  @Test
  void frozenBaseWrapsEveryBaseLayerAndAddsTheHead() {
    TransferGraph tg = assemble(Strategy.frozen(), Head.averagePooling().dense(16));
    ComputationGraph net = tg.network();
    for (String l :
        List.of("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "conv3", "bn3", "relu3")) {
      assertInstanceOf(org.deeplearning4j.nn.layers.FrozenLayer.class, net.getLayer(l), l);
    }
    assertEquals(List.of("head_pool", "head_dense_1", "head_output"), tg.headLayers());
    INDArray out = net.outputSingle(Digits.tensors(Digits.HIGH, 0, 2, 28).getFeatures());
    assertEquals(10, out.size(0));
    assertEquals(5, out.size(1));
    assertEquals(1.0, out.getRow(0).sumNumber().doubleValue(), 1e-5);
    // base parameters copied, not re-initialised
    assertEquals(
        SmallNets.pretrainedOnLowDigits().getLayer("conv2").params(),
        net.getLayer("conv2").params());
    assertEquals(1, tg.phases().size());
    assertEquals(
        Map.of("head_dense_1", 1e-3, "head_output", 1e-3), tg.phases().get(0).learningRates());
  }

  @Test
  void eachTrainableLayerHasItsOwnUpdaterAtTheRateAsked() {
    // The trap: FineTuneConfiguration shares one IUpdater, so setting one layer's rate set all.
    TransferGraph tg =
        assemble(
            Strategy.fineTune().unfreezeLast(2).learningRate(2e-4).headLearningRateMultiplier(5),
            Head.averagePooling().dense(8));
    ComputationGraph net = tg.network();
    assertEquals(List.of("conv2", "conv3"), tg.unfrozenBaseLayers());
    assertEquals(2e-4, net.getLearningRate("conv2"), 1e-12);
    assertEquals(2e-4, net.getLearningRate("conv3"), 1e-12);
    assertEquals(1e-3, net.getLearningRate("head_dense_1"), 1e-12);
    assertEquals(1e-3, net.getLearningRate("head_output"), 1e-12);
    BaseLayer c2 = (BaseLayer) net.getLayer("conv2").conf().getLayer();
    BaseLayer c3 = (BaseLayer) net.getLayer("conv3").conf().getLayer();
    assertNotSame(c2.getIUpdater(), c3.getIUpdater());
    net.setLearningRate("conv3", 0.5);
    assertEquals(0.5, net.getLearningRate("conv3"), 1e-12);
    assertEquals(2e-4, net.getLearningRate("conv2"), 1e-12);
    assertEquals(1e-3, net.getLearningRate("head_output"), 1e-12);

    // The same holds in the networks the phases train.
    Phase fine = tg.phases().get(1);
    assertEquals("finetune", fine.name());
    TrainingPlan plan = tg.plan(true, dev.graft.model.TinyNets.cacheInput("k"));
    ComputationGraph part = plan.trainablePart(fine, plan.steps().get(1).feed().trainable(), 100);
    part.setLearningRate("conv2", 0.25);
    assertEquals(
        1e-3 * (1.0 / 10), part.getLearningRate("head_output"), 1e-12); // warm-up step 1 of 10
    assertEquals(List.of("pool1"), plan.steps().get(1).feed().trainable().inputs());
    assertEquals("warmup", tg.phases().get(0).name());
    assertEquals(
        Map.of("head_dense_1", 1e-3, "head_output", 1e-3), tg.phases().get(0).learningRates());
  }

  @Test
  void unfreezeChoicesFollowBlocksAndLayers() {
    assertEquals(
        List.of("conv3"),
        assemble(Strategy.fineTune(), Head.averagePooling()).unfrozenBaseLayers());
    assertEquals(
        List.of("conv2", "conv3"),
        assemble(Strategy.fineTune().unfreezeLastBlocks(2), Head.averagePooling())
            .unfrozenBaseLayers());
    assertEquals(
        List.of("conv2", "bn2", "conv3", "bn3"),
        assemble(
                Strategy.fineTune().fromBlock("block2").trainBatchNorm(true), Head.averagePooling())
            .unfrozenBaseLayers());
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> assemble(Strategy.fineTune().fromBlock("mixed9"), Head.averagePooling()));
    assertTrue(e.getMessage().contains("mixed9"), e.getMessage());
    assertThrows(
        GraftException.class,
        () -> assemble(Strategy.fineTune().unfreezeLast(4), Head.averagePooling()));
    GraftException cut =
        assertThrows(
            GraftException.class,
            () ->
                TransferGraph.assemble(
                    SmallNets.pretrainedOnLowDigits(),
                    28,
                    "nope",
                    List.of(),
                    Head.flatten(),
                    Strategy.frozen(),
                    GraphOptions.of(5)));
    assertTrue(cut.getMessage().contains("nope"));
  }

  @Test
  void classWeightsAndWeightDecayReachTheLayers() {
    TransferGraph tg =
        SmallNets.transferGraph(
            Head.averagePooling().dense(8),
            Strategy.fineTune().unfreezeLast(1),
            GraphOptions.of(3).withClassWeights(new double[] {1, 2, 5}).withWeightDecay(1e-4));
    var out =
        (org.deeplearning4j.nn.conf.layers.OutputLayer)
            tg.network().getLayer("head_output").conf().getLayer();
    var loss = (org.nd4j.linalg.lossfunctions.impl.LossMCXENT) out.getLossFn();
    assertEquals(5.0, loss.getWeights().getDouble(2), 1e-6);
    for (String l : List.of("conv3", "head_dense_1", "head_output")) {
      BaseLayer bl = (BaseLayer) tg.network().getLayer(l).conf().getLayer();
      assertEquals(1, bl.getRegularization().size(), l);
      assertInstanceOf(
          org.nd4j.linalg.learning.regularization.WeightDecay.class,
          bl.getRegularization().get(0),
          l);
      assertTrue(bl.getRegularizationBias().isEmpty(), l);
    }
  }

  @Test
  void flattenHeadReadsTheWholeFeatureMap() {
    TransferGraph tg = assemble(Strategy.frozen(), Head.flatten().dense(12).dropout(0.5));
    assertEquals(32L * 7 * 7 * 12 + 12, tg.network().getLayer("head_dense_1").numParams());
    assertEquals(List.of("relu3"), boundary(tg));
    // with a pooling head and no dense layer, only the output trains: it reads the pooled map
    TransferGraph gap = assemble(Strategy.frozen(), Head.averagePooling());
    assertEquals(List.of("head_pool"), boundary(gap));
  }

  @Test
  void assembledNetworkSurvivesModelSerializer(@TempDir Path dir) throws Exception {
    TransferGraph tg =
        assemble(Strategy.fineTune().unfreezeLast(2), Head.averagePooling().dense(8));
    File f = dir.resolve("net.zip").toFile();
    ModelSerializer.writeModel(tg.network(), f, true);
    ComputationGraph back = ModelSerializer.restoreComputationGraph(f, true);
    DataSet ds = Digits.tensors(Digits.HIGH, 0, 2, 28);
    assertEquals(tg.network().outputSingle(ds.getFeatures()), back.outputSingle(ds.getFeatures()));
    assertInstanceOf(InferenceBatchNormLayer.class, back.getLayer("bn3"));
    assertNotEquals(null, back.getLayer("conv3"));

    // A file written before InferenceBatchNorm moved to dev.graft.graph names the old class.
    String json = tg.network().getConfiguration().toJson();
    assertTrue(json.contains("\"dev.graft.graph.InferenceBatchNorm\""), "names the layer class");
    ComputationGraph old =
        new ComputationGraph(
            ComputationGraphConfiguration.fromJson(
                json.replace(
                    "\"dev.graft.graph.InferenceBatchNorm\"",
                    "\"dev.graft.strategy.InferenceBatchNorm\"")));
    old.init(tg.network().params().dup(), false);
    assertInstanceOf(InferenceBatchNormLayer.class, old.getLayer("bn3"));
    assertEquals(tg.network().outputSingle(ds.getFeatures()), old.outputSingle(ds.getFeatures()));
  }

  /** The first phase's freeze boundary, as the plan computes it. */
  private static List<String> boundary(TransferGraph tg) {
    return tg.plan(true, dev.graft.model.TinyNets.cacheInput("k"))
        .steps()
        .get(0)
        .feed()
        .trainable()
        .inputs();
  }
}
