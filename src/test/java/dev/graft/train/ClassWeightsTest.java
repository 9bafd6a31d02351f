package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.strategy.WarmupCosineSchedule;
import org.junit.jupiter.api.Test;

class ClassWeightsTest {
  @Test
  void balancedWeightsAreInverseFrequency() {
    // 100 examples: 80 / 15 / 5 -> n / (k * count)
    assertArrayEquals(
        new double[] {100.0 / 240, 100.0 / 45, 100.0 / 15},
        ClassWeights.balanced().resolve(new int[] {80, 15, 5}),
        1e-12);
    assertNull(ClassWeights.none().resolve(new int[] {1, 2}));
    assertArrayEquals(new double[] {1, 3}, ClassWeights.parse("1, 3").resolve(new int[] {5, 5}));
    assertEquals(ClassWeights.balanced(), ClassWeights.parse("balanced"));
  }

  @Test
  void badWeightsAreRejectedWithTheValue() {
    GraftException e =
        assertThrows(
            GraftException.class, () -> ClassWeights.of(1, 2).resolve(new int[] {1, 1, 1}));
    assertTrue(e.getMessage().contains("[1.0, 2.0]"), e.getMessage());
    assertThrows(GraftException.class, () -> ClassWeights.balanced().resolve(new int[] {3, 0}));
    assertThrows(GraftException.class, () -> ClassWeights.parse("heavy"));
  }

  @Test
  void warmupThenCosineDecay() {
    WarmupCosineSchedule s = new WarmupCosineSchedule(1e-3, 10, 110, 0);
    assertEquals(1e-4, s.valueAt(0, 0), 1e-15);
    assertEquals(1e-3, s.valueAt(9, 0), 1e-15);
    assertEquals(1e-3, s.valueAt(10, 0), 1e-15);
    assertEquals(0.5e-3, s.valueAt(60, 0), 1e-12);
    assertEquals(0, s.valueAt(110, 0), 1e-15);
    assertTrue(s.valueAt(30, 0) > s.valueAt(31, 0));
    assertEquals(s, s.clone());
  }
}
