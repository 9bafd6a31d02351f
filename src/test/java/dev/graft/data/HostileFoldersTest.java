package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data folders an attacker shaped: a symbolic-link fan-out (24 levels of two links, 2^24 paths, a
 * hundred kilobytes on disk), control characters in class folder and file names, and FIFOs in a
 * class folder.
 */
class HostileFoldersTest {
  @TempDir Path dir;

  @Test
  void symlinkFanOutIsScannedOncePerRealFolder() throws Exception {
    Path root = TinyNets.digits(dir.resolve("data"), List.of("1", "4"), 3);
    HostileImages.symlinkFanOut(dir.resolve("trap"), root.resolve("1"));
    ImageDataset data =
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> ImageFolder.of(root));
    assertEquals(6, data.size());
  }

  @Test
  void controlCharactersInNamesAreRefusedOrSkipped() throws Exception {
    Path root = TinyNets.digits(dir.resolve("data"), List.of("1", "4"), 3);
    Path png = Files.list(root.resolve("4")).findFirst().orElseThrow();
    Files.copy(png, root.resolve("4").resolve("fake\nline.png"));
    HostileImages.fifo(root.resolve("4"), "fifo.png");
    ImageDataset data =
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> ImageFolder.of(root));
    assertEquals(6, data.size(), "the newline file and the FIFO are left out");
    assertEquals(1, data.skipped().size(), data.skipped().toString()); // the FIFO is not a file
    assertTrue(data.skipped().get(0).reason().contains("control characters"));

    Files.createDirectories(root.resolve("evil\u001b[31m"));
    Files.copy(png, root.resolve("evil\u001b[31m").resolve("x.png"));
    GraftException e = assertThrows(GraftException.class, () -> ImageFolder.of(root));
    assertTrue(e.getMessage().contains("evil\\u001b[31m"), e.getMessage());
    assertTrue(!e.getMessage().contains("\u001b"), e.getMessage());
  }
}
