package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.data.ImageDataset;
import dev.graft.data.Sample;
import dev.graft.error.GraftException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LabelledFilesTest {

  @Test
  void aSubsetOfTheClassesInAnotherOrderIsNumberedAsTheModelNumbersThem() {
    ImageDataset test =
        ImageDataset.of(
            List.of("cat", "ant"),
            List.of(
                new Sample(Path.of("cat/1.png"), 0),
                new Sample(Path.of("ant/1.png"), 1),
                new Sample(Path.of("cat/2.png"), 0)));
    LabelledFiles lf = LabelledFiles.of(test, List.of("ant", "bee", "cat"));
    assertEquals(
        List.of(Path.of("cat/1.png"), Path.of("ant/1.png"), Path.of("cat/2.png")), lf.files());
    assertArrayEquals(new int[] {2, 0, 2}, lf.actual());
  }

  @Test
  void aClassTheModelDoesNotKnowIsNamed() {
    ImageDataset test =
        ImageDataset.of(List.of("dog"), List.of(new Sample(Path.of("dog/1.png"), 0)));
    GraftException e =
        assertThrows(GraftException.class, () -> LabelledFiles.of(test, List.of("ant", "cat")));
    assertTrue(e.getMessage().contains("'dog' is not one the model knows"), e.getMessage());
    assertTrue(e.getMessage().contains("[ant, cat]"), e.getMessage());
  }
}
