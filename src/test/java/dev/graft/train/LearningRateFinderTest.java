package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.error.GraftException;
import dev.graft.head.Head;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The learning-rate range test on real digits and a small CNN base. */
class LearningRateFinderTest {
  @TempDir static Path dir;
  static ImageDataset train;
  static Base base;

  @BeforeAll
  static void setUp() throws Exception {
    Digits.data().extract(dir.resolve("train"), Digits.HIGH, 0, 20);
    train = ImageFolder.of(dir.resolve("train"));
    // a base pretrained on digits 0-4, so that its features carry signal for 5-9
    base = SmallNets.pretrainedBase();
  }

  @Test
  void theSuggestionLiesWhereTheLossFalls() {
    LearningRateFinder.Result r =
        Graft.base(base)
            .head(Head.flatten())
            .strategy(Strategy.features())
            .batchSize(10)
            .findLearningRate(train);
    double[] sm = r.smoothed();
    int i = r.suggestionIndex();
    assertEquals(r.rates()[i], r.suggestion());
    int min = 0;
    for (int k = 1; k < sm.length; k++) {
      if (sm[k] < sm[min]) {
        min = k;
      }
    }
    assertTrue(i > 0 && i < min, "suggestion step " + i + " before the minimum at " + min);
    assertTrue(sm[i + 1] < sm[i - 1], "the smoothed loss falls around the suggestion");
    assertTrue(sm[min] < sm[0] - 0.1, "the loss fell: " + sm[0] + " -> " + sm[min]);
    // the sweep ran into divergence or the end of the range, growing the rate every step
    for (int k = 1; k < r.rates().length; k++) {
      assertTrue(r.rates()[k] > r.rates()[k - 1]);
    }
    assertTrue(r.describe().contains("suggested learning rate"));
  }

  @Test
  void theSweepReportsEveryStepItRan() {
    java.util.List<Integer> seen = new java.util.ArrayList<>();
    LearningRateFinder.Result r =
        Graft.base(base)
            .head(Head.flatten())
            .strategy(Strategy.frozen())
            .batchSize(10)
            .findLearningRate(train, seen::add); // 100 images: 10 batches, replayed after a pass
    assertEquals(r.rates().length, seen.size(), "one report per step: " + seen);
    for (int k = 0; k < seen.size(); k++) {
      assertEquals(k + 1, seen.get(k));
    }
    assertTrue(seen.size() > 10, "the sweep ran past the first pass over the data: " + seen.size());
  }

  /**
   * The sweep changes each layer's rate in its own Adam configuration instead of DL4J's
   * setLearningRate (which rebuilds the updater): on the network the sweep really trains (the
   * fine-tune phase's trainable part, two rates), a step after either way gives the same weights.
   */
  @Test
  void aRateSetInPlaceTrainsAsDl4jsSetterDoes() {
    dev.graft.strategy.TransferGraph tg =
        SmallNets.transferGraph(
            Head.averagePooling(),
            Strategy.fineTune().unfreezeLast(1),
            new dev.graft.strategy.GraphOptions(5, null, 0, 42, 3, Double.NaN));
    dev.graft.strategy.TrainingPlan plan =
        tg.plan(false, dev.graft.model.TinyNets.cacheInput("lr-test"));
    dev.graft.strategy.TrainingPlan.Step last = plan.steps().get(plan.steps().size() - 1);
    var inPlace = plan.trainablePart(last.phase(), last.feed().trainable(), 0);
    var rebuilt = plan.trainablePart(last.phase(), last.feed().trainable(), 0);
    org.nd4j.linalg.dataset.DataSet ds = Digits.tensors(Digits.HIGH, 0, 4, 28);
    org.nd4j.linalg.api.ndarray.INDArray in =
        last.feed()
            .ownFrozenPart()
            .map(f -> plan.frozenPart(f).activations(ds.getFeatures())[0])
            .orElse(ds.getFeatures());
    var batch =
        new org.nd4j.linalg.dataset.MultiDataSet(
            new org.nd4j.linalg.api.ndarray.INDArray[] {in},
            new org.nd4j.linalg.api.ndarray.INDArray[] {ds.getLabels()});
    double scale = 7;
    for (int step = 0; step < 2; step++) {
      double s = Math.pow(scale, step + 1);
      last.phase()
          .learningRates()
          .forEach(
              (layer, lr) -> {
                LearningRateFinder.setRate(inPlace, layer, lr * s);
                rebuilt.setLearningRate(layer, lr * s);
              });
      org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(1);
      inPlace.fit(batch);
      org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(1);
      rebuilt.fit(batch);
    }
    assertTrue(last.phase().learningRates().size() >= 2, "several layers, two rates");
    assertEquals(rebuilt.params(), inPlace.params());
    for (String layer : last.phase().learningRates().keySet()) {
      assertEquals(rebuilt.getLearningRate(layer), inPlace.getLearningRate(layer), layer);
    }
  }

  @Test
  void steepestIsTheFastestFallBeforeTheMinimum() {
    double[] rates = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1};
    double[] loss = {2.0, 1.95, 1.5, 0.6, 0.5, 3.0};
    assertEquals(2, LearningRateFinder.steepest(rates, loss)); // 1.95 -> 0.6 around 1e-3
  }

  @Test
  void aLogisticRegressionHeadHasNoRateToFind() {
    assertThrows(
        GraftException.class,
        () ->
            Graft.base(base)
                .head(Head.logisticRegression())
                .strategy(Strategy.features())
                .findLearningRate(train));
  }
}
