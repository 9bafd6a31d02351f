package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.head.Head;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.metrics.Monitor;
import dev.graft.strategy.GraphOptions;
import dev.graft.strategy.Strategy;
import dev.graft.strategy.TransferGraph;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.dataset.DataSet;

/** The loop on a small BatchNorm CNN pretrained (in the test) on digits 0-4, trained on 5-9. */
class TrainerTest {
  private static final List<String> BASE_LAYERS =
      List.of("conv1", "bn1", "conv2", "bn2", "conv3", "bn3");
  private static final DataSet TRAIN = Digits.tensors(Digits.HIGH, 0, 8, 28);
  private static final DataSet VAL = Digits.tensors(Digits.HIGH, 100, 10, 28);

  private static TransferGraph assemble(Strategy s, Head h, int epochs) {
    return SmallNets.transferGraph(h, s, GraphOptions.of(5).withEpochs(epochs));
  }

  private static TrainingConfig config() {
    return TrainingConfig.defaults(Digits.labels(Digits.HIGH))
        .withBatchSize(10)
        .withBatchesPerEpoch(4);
  }

  private static Map<String, float[]> params(ComputationGraph g, List<String> layers) {
    Map<String, float[]> m = new HashMap<>();
    for (String l : layers) {
      m.put(l, g.getLayer(l).params().dup().data().asFloat());
    }
    return m;
  }

  @ParameterizedTest(name = "cached={0}")
  @ValueSource(booleans = {true, false})
  void frozenBaseTrainsOnlyTheHeadAndKeepsBatchNormStatistics(boolean cached) {
    Map<String, float[]> before = params(SmallNets.pretrainedOnLowDigits(), BASE_LAYERS);
    TransferGraph tg = assemble(Strategy.frozen(), Head.averagePooling().dense(16), 2);
    float[] headBefore = tg.network().getLayer("head_dense_1").params().dup().data().asFloat();
    TrainingResult r =
        Trainer.train(
            tg.plan(cached, dev.graft.model.TinyNets.cacheInput("test")),
            Digits.iterator(TRAIN, 10),
            Digits.iterator(VAL, 25),
            config());
    Map<String, float[]> after = params(r.network(), BASE_LAYERS);
    for (String l : BASE_LAYERS) {
      assertArrayEquals(before.get(l), after.get(l), l + " changed"); // BN mean/var included
    }
    assertFalse(
        Arrays.equals(headBefore, r.network().getLayer("head_dense_1").params().data().asFloat()),
        "the head did not train");
    assertEquals(2, r.history().size());
  }

  @ParameterizedTest(name = "cached={0}")
  @ValueSource(booleans = {true, false})
  void fineTuneTrainsTheUnfrozenLayersThroughFrozenBatchNorm(boolean cached) {
    // conv2 sits below bn2 and bn3, which stay frozen in inference mode: conv2 can only learn if
    // gradients pass through them (FrozenLayer would stop them; FrozenLayerWithBackprop fails).
    Map<String, float[]> before = params(SmallNets.pretrainedOnLowDigits(), BASE_LAYERS);
    TransferGraph tg =
        assemble(Strategy.fineTune().unfreezeLast(2).warmupEpochs(1), Head.averagePooling(), 2);
    TrainingResult r =
        Trainer.train(
            tg.plan(cached, dev.graft.model.TinyNets.cacheInput("test")),
            Digits.iterator(TRAIN, 10),
            Digits.iterator(VAL, 25),
            config());
    Map<String, float[]> after = params(r.network(), BASE_LAYERS);
    for (String frozen : List.of("conv1", "bn1", "bn2", "bn3")) {
      assertArrayEquals(before.get(frozen), after.get(frozen), frozen + " changed");
    }
    for (String trained : List.of("conv2", "conv3")) {
      assertFalse(
          Arrays.equals(before.get(trained), after.get(trained)), trained + " did not train");
    }
  }

  @Test
  void fineTuneRunsTheFrozenPartOncePerImage() {
    // Two phases, two boundaries (head_pool, then pool1): the warm-up's cache is derived from the
    // fine-tuning one, so the factory runs the base over the training and validation sets once.
    java.util.concurrent.atomic.AtomicInteger builds =
        new java.util.concurrent.atomic.AtomicInteger();
    dev.graft.strategy.ActivationCache.Factory counting =
        (part, data) -> {
          builds.incrementAndGet();
          assertEquals(List.of("pool1"), part.outputs());
          return dev.graft.strategy.ActivationCache.inMemory().build(part, data);
        };
    TransferGraph tg =
        assemble(Strategy.fineTune().unfreezeLast(2).warmupEpochs(1), Head.averagePooling(), 2);
    TrainingResult r =
        Trainer.train(
            tg.plan(true, dev.graft.model.TinyNets.cacheInput("test")),
            Digits.iterator(TRAIN, 10),
            Digits.iterator(VAL, 25),
            config().withCacheFactory(counting));
    assertEquals(2, builds.get());
    assertEquals(2, r.history().size());
    assertTrue(Double.isFinite(r.history().epochs().get(1).validationLoss()));
  }

  @Test
  void trainBatchNormLetsUnfrozenBatchNormLearn() {
    Map<String, float[]> before = params(SmallNets.pretrainedOnLowDigits(), BASE_LAYERS);
    TransferGraph tg =
        assemble(
            Strategy.fineTune().unfreezeLast(2).trainBatchNorm(true).warmupEpochs(0),
            Head.averagePooling(),
            1);
    assertEquals(List.of("conv3", "bn3"), tg.unfrozenBaseLayers());
    TrainingResult r =
        Trainer.train(
            tg.plan(true, dev.graft.model.TinyNets.cacheInput("test")),
            Digits.iterator(TRAIN, 10),
            null,
            config());
    Map<String, float[]> after = params(r.network(), BASE_LAYERS);
    assertFalse(Arrays.equals(before.get("bn3"), after.get("bn3")));
    assertArrayEquals(before.get("bn2"), after.get("bn2"));
    assertArrayEquals(before.get("conv2"), after.get("conv2"));
  }

  @Test
  void earlyStoppingRestoresTheBestEpochsWeights() {
    // A wide head at a high rate on 10 images overfits: validation loss turns up after a few
    // epochs.
    DataSet tiny = Digits.tensors(Digits.HIGH, 0, 2, 28);
    TransferGraph tg =
        SmallNets.transferGraph(
            Head.flatten().dense(64),
            Strategy.frozen().learningRate(0.03),
            GraphOptions.of(5).withEpochs(12));
    List<EpochRecord> seen = new ArrayList<>();
    TrainingListener listener =
        new TrainingListener() {
          @Override
          public void onEpochEnd(EpochRecord record, History history) {
            seen.add(record);
          }
        };
    TrainingResult r =
        Trainer.train(
            tg.plan(true, dev.graft.model.TinyNets.cacheInput("test")),
            Digits.iterator(tiny, 10),
            Digits.iterator(VAL, 25),
            config()
                .withPatience(3)
                .withMonitor(Monitor.VALIDATION_LOSS)
                .withListeners(List.of(listener)));
    History h = r.history();
    assertEquals(h.epochs(), seen);
    int best = h.bestEpoch();
    assertTrue(best < h.size(), "validation loss never turned up: " + h.toCsv());
    assertEquals(best, r.restoredEpoch());
    assertTrue(r.stoppedEarly());
    assertEquals(best + 3, h.size());
    // The network holds the best epoch's weights: its validation loss is the best epoch's.
    ClassificationReport now =
        ClassificationReport.of(
            Digits.labels(Digits.HIGH),
            VAL.getLabels(),
            r.network().outputSingle(VAL.getFeatures()));
    EpochRecord bestRecord = h.epochs().get(best - 1);
    assertEquals(bestRecord.validationLoss(), now.logLoss(), 1e-5);
    assertTrue(h.last().orElseThrow().validationLoss() > bestRecord.validationLoss());
  }

  @Test
  void theSameSeedGivesBitIdenticalWeights() {
    float[][] runs = new float[2][];
    for (int i = 0; i < 2; i++) {
      TransferGraph tg =
          assemble(
              Strategy.fineTune().unfreezeLast(1).warmupEpochs(1),
              Head.averagePooling().dense(16).dropout(0.3),
              2);
      TrainingResult r =
          Trainer.train(
              tg.plan(true, dev.graft.model.TinyNets.cacheInput("test")),
              Digits.iterator(TRAIN, 10),
              Digits.iterator(VAL, 25),
              config().withSeed(123));
      runs[i] = r.network().params().dup().data().asFloat();
    }
    assertArrayEquals(runs[0], runs[1]);
  }
}
