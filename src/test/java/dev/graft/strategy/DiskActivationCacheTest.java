package dev.graft.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.head.Head;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingConfig;
import dev.graft.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * The on-disk activation cache behind the strategy seam, on a small BatchNorm CNN and real digits.
 */
class DiskActivationCacheTest {
  private static final DataSet TRAIN = Digits.tensors(Digits.HIGH, 0, 6, 28);

  @TempDir Path dir;

  private static TransferGraph assemble(Strategy s) {
    return SmallNets.transferGraph(
        Head.averagePooling().dense(8), s, GraphOptions.of(5).withEpochs(1));
  }

  /** Counts the examples that go through the frozen part. */
  private record Counting(FrozenPart inner, AtomicInteger examples) implements FrozenPart {
    @Override
    public List<String> outputs() {
      return inner.outputs();
    }

    @Override
    public INDArray[] activations(INDArray images) {
      examples.addAndGet((int) images.size(0));
      return inner.activations(images);
    }

    @Override
    public dev.graft.features.FeatureKey key() {
      return inner.key();
    }
  }

  @Test
  void secondBuildReadsFromDiskAndMatchesTheInMemoryCache() throws IOException {
    TransferGraph tg = assemble(Strategy.fineTune().unfreezeLast(2));
    TrainingPlan plan = tg.plan(true, dev.graft.model.TinyNets.cacheInput("smallnet|test-weights"));
    TrainingPlan.Feed last = plan.steps().get(plan.steps().size() - 1).feed();
    FrozenPart part =
        plan.frozenPart(
            plan.sharedCache() != null ? plan.sharedCache() : last.ownFrozenPart().orElseThrow());
    AtomicInteger examples = new AtomicInteger();
    Counting counting = new Counting(part, examples);
    int[] idx = {3, 1, 4, 1, 5};
    MultiDataSet first;
    try (ActivationCache c =
        ActivationCache.onDisk(dir).build(counting, Digits.iterator(TRAIN, 7))) {
      assertEquals(TRAIN.numExamples(), c.size());
      assertEquals(TRAIN.numExamples(), examples.get());
      first = c.batch(idx);
    }
    try (ActivationCache c =
        ActivationCache.onDisk(dir).build(counting, Digits.iterator(TRAIN, 4))) {
      assertEquals(TRAIN.numExamples(), examples.get(), "nothing recomputed on the second run");
      MultiDataSet again = c.batch(idx);
      for (int i = 0; i < first.numFeatureArrays(); i++) {
        assertArrayEquals(
            first.getFeatures(i).dup().data().asFloat(),
            again.getFeatures(i).dup().data().asFloat());
      }
      assertEquals(first.getLabels(0), again.getLabels(0));
    }
    try (ActivationCache mem = ActivationCache.inMemory().build(part, Digits.iterator(TRAIN, 7))) {
      MultiDataSet m = mem.batch(idx);
      assertArrayEquals(
          m.getFeatures(0).dup().data().asFloat(), first.getFeatures(0).dup().data().asFloat());
      assertArrayEquals(
          m.getLabels(0).dup().data().asFloat(), first.getLabels(0).dup().data().asFloat());
    }
  }

  @Test
  void aSecondTrainingRunReusesTheDiskCacheAndGetsTheSameWeights() throws IOException {
    TrainingConfig disk =
        TrainingConfig.defaults(Digits.labels(Digits.HIGH))
            .withBatchSize(10)
            .withBatchesPerEpoch(3)
            .withCacheFactory(ActivationCache.onDisk(dir));
    TrainingResult d1 =
        Trainer.train(
            assemble(Strategy.frozen())
                .plan(true, dev.graft.model.TinyNets.cacheInput("smallnet|test-weights")),
            Digits.iterator(TRAIN, 10),
            null,
            disk);
    long files;
    try (var s = java.nio.file.Files.walk(dir)) {
      files = s.filter(p -> p.toString().endsWith(".feat")).count();
    }
    TrainingResult d2 =
        Trainer.train(
            assemble(Strategy.frozen())
                .plan(true, dev.graft.model.TinyNets.cacheInput("smallnet|test-weights")),
            Digits.iterator(TRAIN, 10),
            null,
            disk);
    try (var s = java.nio.file.Files.walk(dir)) {
      assertEquals(
          files,
          s.filter(p -> p.toString().endsWith(".feat")).count(),
          "the second run wrote nothing");
    }
    assertArrayEquals(
        d1.network().params().dup().data().asFloat(), d2.network().params().dup().data().asFloat());
  }
}
