package dev.graft.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDataTest {
  @TempDir Path tmp;

  @Test
  void bundleHoldsAllTenThousandDigits() throws Exception {
    DemoData d = DemoData.load();
    assertEquals(10_000, d.size());
    assertEquals(28, d.side());
    int[] expected = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
    for (int i = 0; i < 10; i++) {
      assertEquals(expected[i], d.count(i), "digit " + i);
    }
  }

  @Test
  void extractedPngsMatchTheTestSamplePixelForPixel() throws Exception {
    DemoData d = DemoData.load();
    Path out = d.extract(tmp.resolve("x"), List.of(3, 7), 0, 20);
    try (Stream<Path> s = Files.list(out.resolve("3"))) {
      assertEquals(20, s.count());
    }
    for (String name : List.of("3/0000.png", "3/0019.png", "7/0005.png")) {
      BufferedImage got = ImageIO.read(out.resolve(name).toFile());
      BufferedImage want;
      try (InputStream in = getClass().getResourceAsStream("/mnist/" + name)) {
        want = ImageIO.read(in);
      }
      assertArrayEquals(
          want.getRaster().getPixels(0, 0, 28, 28, (int[]) null),
          got.getRaster().getPixels(0, 0, 28, 28, (int[]) null),
          name);
    }
    assertTrue(!Files.exists(out.resolve("5")));
  }

  @Test
  void slicesAreDisjointAndClamped() throws Exception {
    DemoData d = DemoData.load();
    Path out = d.extract(tmp.resolve("y"), List.of(5), 860, 100);
    try (Stream<Path> s = Files.list(out.resolve("5"))) {
      assertEquals(
          List.of("0860.png", "0861.png", "0862.png"),
          s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    assertThrows(GraftException.class, () -> d.extract(tmp, List.of(10), 0, 1));
    assertThrows(GraftException.class, () -> d.image(5, 863));
  }
}
