package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HoldOutTest {

  /** Two classes of {@code perClass[i]} samples each (the split reads labels only). */
  private static ImageDataset dataset(int... perClass) {
    List<Sample> samples = new ArrayList<>();
    for (int c = 0; c < perClass.length; c++) {
      for (int i = 0; i < perClass[c]; i++) {
        samples.add(new Sample(Path.of("c" + c, i + ".png"), c));
      }
    }
    List<String> labels = new ArrayList<>();
    for (int c = 0; c < perClass.length; c++) {
      labels.add("c" + c);
    }
    return ImageDataset.of(labels, samples);
  }

  @Test
  void fewerThanThirtyInTheSmallestClassHoldsNothingOut() {
    ImageDataset all = dataset(100, HoldOut.FEW_LABELS - 1);
    HoldOut h = HoldOut.byDefault(all, 42);
    assertTrue(h.fewLabels());
    assertNull(h.validation());
    assertSame(all, h.train(), "every image trains");
    assertEquals(HoldOut.FEW_LABELS - 1, h.smallestClass());
  }

  @Test
  void otherwiseAFifthOfEveryClassIsHeldOut() {
    ImageDataset all = dataset(50, HoldOut.FEW_LABELS);
    HoldOut h = HoldOut.byDefault(all, 42);
    assertFalse(h.fewLabels());
    assertArrayEquals(new int[] {10, 6}, h.validation().classCounts(), "stratified fifths");
    assertArrayEquals(new int[] {40, 24}, h.train().classCounts());
    Set<Path> seen = new HashSet<>();
    h.train().samples().forEach(s -> seen.add(s.path()));
    h.validation().samples().forEach(s -> assertTrue(seen.add(s.path()), "disjoint: " + s));
    assertEquals(all.size(), seen.size());
    // the same seed, the same split
    assertEquals(h.validation().samples(), HoldOut.byDefault(all, 42).validation().samples());
  }

  @Test
  void anExplicitFractionOverridesTheDefault() {
    ImageDataset few = dataset(10, 10);
    HoldOut h = HoldOut.of(few, 0.3, 1);
    assertFalse(h.fewLabels());
    assertArrayEquals(new int[] {3, 3}, h.validation().classCounts());
    HoldOut none = HoldOut.of(dataset(100, 100), 0, 1);
    assertNull(none.validation());
    assertFalse(none.fewLabels());
    GraftException e = assertThrows(GraftException.class, () -> HoldOut.of(few, 1.0, 1));
    assertTrue(e.getMessage().contains("[0, 1)"), e.getMessage());
  }
}
