package dev.graft.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class MetricsTest {
  private static final List<String> ABC = List.of("a", "b", "c");

  // 6 examples; true: a a b b c c ; predicted: a b b b a c
  private static final int[] ACTUAL = {0, 0, 1, 1, 2, 2};
  private static final float[][] PROBS = {
    {0.7f, 0.2f, 0.1f}, // a -> a
    {0.3f, 0.6f, 0.1f}, // a -> b (a is 2nd)
    {0.1f, 0.8f, 0.1f}, // b -> b
    {0.2f, 0.5f, 0.3f}, // b -> b
    {0.5f, 0.1f, 0.4f}, // c -> a (c is 2nd)
    {0.1f, 0.1f, 0.8f}, // c -> c
  };

  @Test
  void metricsMatchHandComputedValues() {
    ClassificationReport r = ClassificationReport.of(ABC, ACTUAL, PROBS);
    assertEquals(6, r.size());
    assertEquals(4.0 / 6, r.accuracy(), 1e-12);
    assertEquals(1.0, r.topK(2), 1e-12);
    assertEquals(1.0, r.topK(3), 1e-12);
    assertArrayEquals(new int[][] {{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}, r.confusion());
    // precision: a: 1/2, b: 2/3, c: 1/1 ; recall: a 1/2, b 1, c 1/2
    assertEquals(0.5, r.precision(0), 1e-12);
    assertEquals(2.0 / 3, r.precision(1), 1e-12);
    assertEquals(1.0, r.precision(2), 1e-12);
    assertEquals(0.5, r.recall(0), 1e-12);
    assertEquals(1.0, r.recall(1), 1e-12);
    assertEquals(0.5, r.recall(2), 1e-12);
    double f1b = 2 * (2.0 / 3) * 1 / (2.0 / 3 + 1);
    double f1c = 2 * 1 * 0.5 / 1.5;
    assertEquals(0.5, r.f1(0), 1e-12);
    assertEquals(f1b, r.f1(1), 1e-12);
    assertEquals((0.5 + f1b + f1c) / 3, r.macroF1(), 1e-12);
    double ll =
        -(Math.log(0.7)
                + Math.log(0.3)
                + Math.log(0.8)
                + Math.log(0.5)
                + Math.log(0.4)
                + Math.log(0.8))
            / 6;
    assertEquals(ll, r.logLoss(), 1e-6);
    assertArrayEquals(new int[] {0, 1, 1, 1, 0, 2}, r.predicted());
  }

  @Test
  void ndarrayFactoryAgreesWithArrays() {
    float[][] oneHot = new float[6][3];
    for (int i = 0; i < 6; i++) {
      oneHot[i][ACTUAL[i]] = 1;
    }
    ClassificationReport a = ClassificationReport.of(ABC, ACTUAL, PROBS);
    ClassificationReport b = ClassificationReport.of(ABC, Nd4j.create(oneHot), Nd4j.create(PROBS));
    assertArrayEquals(a.confusion(), b.confusion());
    assertEquals(a.logLoss(), b.logLoss(), 1e-9);
  }

  @Test
  void classNeverPredictedHasZeroPrecision() {
    ClassificationReport r =
        ClassificationReport.of(
            List.of("x", "y"), new int[] {0, 1}, new float[][] {{0.9f, 0.1f}, {0.6f, 0.4f}});
    assertEquals(0.0, r.precision(1));
    assertEquals(0.0, r.f1(1));
    assertEquals(0.5, r.accuracy());
  }

  @Test
  void badInputIsRejectedWithTheValue() {
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> ClassificationReport.of(ABC, new int[] {3}, new float[][] {{1, 0, 0}}));
    assertTrue(
        e.getMessage().contains("true class 3 of example 0 is outside 0..2"), e.getMessage());
    assertThrows(GraftException.class, () -> ClassificationReport.of(ABC, ACTUAL, PROBS).topK(0));
  }

  @Test
  void historyPicksBestEpochByMonitor() {
    History loss = new History(Monitor.VALIDATION_LOSS);
    History acc = new History(Monitor.VALIDATION_ACCURACY);
    EpochRecord e1 = new EpochRecord(1, 1.0, 0.5, 0.9, 0.60, 1e-3, 1);
    EpochRecord e2 = new EpochRecord(2, 0.8, 0.6, 0.7, 0.62, 1e-3, 1);
    EpochRecord e3 = new EpochRecord(3, 0.6, 0.7, 0.8, 0.70, 1e-3, 1);
    for (EpochRecord e : List.of(e1, e2, e3)) {
      loss.add(e);
      acc.add(e);
    }
    assertEquals(2, loss.bestEpoch());
    assertEquals(3, acc.bestEpoch());
    assertEquals(-1, new History().bestEpoch());
    // Without validation, the training metric decides.
    History noVal = new History();
    noVal.add(new EpochRecord(1, 0.5, 0.5, Double.NaN, Double.NaN, 1e-3, 1));
    noVal.add(new EpochRecord(2, 0.4, 0.5, Double.NaN, Double.NaN, 1e-3, 1));
    assertEquals(2, noVal.bestEpoch());
    assertEquals(4, loss.toCsv().split("\n").length);
    assertEquals(Monitor.VALIDATION_ACCURACY, Monitor.named("val_acc"));
    assertThrows(GraftException.class, () -> Monitor.named("f1"));
  }
}
