package dev.graft.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.head.Head;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The plan decides how each phase is fed before training starts; these check each decision on the
 * small digit CNN (conv1..bn3, blocks block1..block3), and that what the plan builds computes what
 * the assembled network computes.
 */
class TrainingPlanTest {
  private static final INDArray IMAGES = Digits.tensors(Digits.HIGH, 0, 6, 28).getFeatures();

  private static TransferGraph assemble(Strategy s, Head h) {
    return SmallNets.transferGraph(h, s, GraphOptions.of(5).withEpochs(3));
  }

  @Test
  void frozenBaseCachesItsOwnActivationsOrRunsTheFrozenPartEachBatch() {
    TransferGraph tg = assemble(Strategy.frozen(), Head.averagePooling().dense(8));
    TrainingPlan cached = tg.plan(true, dev.graft.model.TinyNets.cacheInput("k"));
    assertSame(tg.network(), cached.network(), "the plan trains the assembled network in place");
    assertNull(cached.sharedCache(), "one phase: nothing to share");
    assertEquals(1, cached.steps().size());
    var own = assertInstanceOf(TrainingPlan.Feed.OwnCache.class, cached.steps().get(0).feed());
    assertTrue(own.cached());
    FrozenPart part = cached.frozenPart(own.frozen());
    assertEquals(List.of("head_pool"), part.outputs());
    String key = part.key().canonical();
    assertTrue(key.startsWith("k|test-weights|unit|28|CENTER_CROP|numeric="), key);
    assertTrue(key.endsWith("|boundary=head_pool"), key);

    var direct =
        assertInstanceOf(
            TrainingPlan.Feed.FrozenEachBatch.class,
            tg.plan(false, dev.graft.model.TinyNets.cacheInput("k")).steps().get(0).feed());
    assertFalse(direct.cached());
    // frozen part, then trainable part: the assembled network's own output
    TrainingPlan uncached = tg.plan(false, dev.graft.model.TinyNets.cacheInput("k"));
    ComputationGraph trainable =
        uncached.trainablePart(uncached.steps().get(0).phase(), direct.trainable(), 0);
    INDArray split =
        trainable.outputSingle(uncached.frozenPart(direct.frozen()).activations(IMAGES));
    INDArray whole = tg.network().outputSingle(IMAGES);
    assertArrayEquals(whole.data().asFloat(), split.data().asFloat(), 1e-5f);
    assertEquals(Set.of("head_dense_1", "head_output"), cached.everTrainable());
    assertEquals(3, cached.totalEpochs());
  }

  @Test
  void fineTuneCachesOnceAtTheDeepestBoundaryAndDerivesTheWarmUpFromIt() {
    TransferGraph tg =
        assemble(Strategy.fineTune().unfreezeLast(2).warmupEpochs(1), Head.averagePooling());
    TrainingPlan plan = tg.plan(true, dev.graft.model.TinyNets.cacheInput("k"));
    assertNotNull(plan.sharedCache());
    assertEquals(List.of("pool1"), plan.sharedCache().boundary());
    assertEquals(List.of("warmup", "finetune"), names(plan));
    var warmup = assertInstanceOf(TrainingPlan.Feed.Derived.class, plan.steps().get(0).feed());
    assertEquals(List.of("head_pool"), warmup.bridge().outputs());
    assertEquals(List.of("head_pool"), warmup.trainable().inputs());
    assertInstanceOf(TrainingPlan.Feed.SharedCacheAsIs.class, plan.steps().get(1).feed());
    assertEquals(1 + 2, plan.totalEpochs());
    assertEquals(Set.of("head_output", "conv2", "conv3"), plan.everTrainable());

    // the bridge turns the shared cache's activations into the warm-up's
    FrozenPart deepest = plan.frozenPart(plan.sharedCache());
    FrozenBridge bridge = plan.bridge(warmup.bridge());
    INDArray[] atPool1 = deepest.activations(IMAGES);
    INDArray[] bridgeIn = new INDArray[bridge.inputIndices().length];
    for (int i = 0; i < bridgeIn.length; i++) {
      bridgeIn[i] = atPool1[bridge.inputIndices()[i]];
    }
    INDArray pooled = bridge.graph().outputSingle(bridgeIn);
    INDArray expected =
        tg.network().feedForward(new INDArray[] {IMAGES}, false, false).get("head_pool");
    assertArrayEquals(expected.data().asFloat(), pooled.data().asFloat(), 1e-5f);
  }

  @Test
  void withoutCachingEveryPhaseRunsItsFrozenPartOnEachBatch() {
    TrainingPlan plan =
        assemble(Strategy.fineTune().unfreezeLast(2).warmupEpochs(1), Head.averagePooling())
            .plan(false, dev.graft.model.TinyNets.cacheInput("k"));
    assertNull(plan.sharedCache());
    for (TrainingPlan.Step s : plan.steps()) {
      assertInstanceOf(TrainingPlan.Feed.FrozenEachBatch.class, s.feed(), s.phase().name());
    }
  }

  @Test
  void aTrainableFirstLayerReadsTheImagesAndNothingIsShared() {
    TransferGraph tg =
        assemble(Strategy.fineTune().fromBlock("block1").warmupEpochs(1), Head.averagePooling());
    TrainingPlan plan = tg.plan(true, dev.graft.model.TinyNets.cacheInput("k"));
    assertNull(plan.sharedCache(), "conv1 trains: the last phase has no frozen part to cache");
    assertInstanceOf(TrainingPlan.Feed.OwnCache.class, plan.steps().get(0).feed());
    var images = assertInstanceOf(TrainingPlan.Feed.Images.class, plan.steps().get(1).feed());
    ComputationGraph net = plan.trainablePart(plan.steps().get(1).phase(), images.trainable(), 0);
    assertEquals(
        tg.network().getConfiguration().getNetworkInputs(),
        net.getConfiguration().getNetworkInputs());
  }

  @Test
  void aLogisticRegressionHeadIsAConvexFitAndNeedsCaching() {
    TransferGraph tg =
        SmallNets.transferGraph(
            Head.logisticRegression(),
            Strategy.features(),
            GraphOptions.of(5).withClassWeights(new double[] {1, 1, 2, 1, 1}));
    var fit =
        assertInstanceOf(
            TrainingPlan.Feed.ConvexFit.class,
            tg.plan(true, dev.graft.model.TinyNets.cacheInput("k")).steps().get(0).feed());
    assertArrayEquals(new double[] {1, 1, 2, 1, 1}, fit.classWeights());
    assertEquals(tg.head().l2(), fit.l2(), 0.0);
    GraftException e =
        assertThrows(
            GraftException.class, () -> tg.plan(false, dev.graft.model.TinyNets.cacheInput("k")));
    assertTrue(e.getMessage().contains("logistic-regression"), e.getMessage());
  }

  private static List<String> names(TrainingPlan plan) {
    return plan.steps().stream().map(s -> s.phase().name()).toList();
  }
}
