package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real WebP files made with libwebp's {@code cwebp} (see {@code src/test/resources/webp/README.md})
 * decode with the pinned pure-Java reader: lossless exactly as the source PNG, lossy close to it.
 */
class ImageDecoderWebPTest {
  @TempDir Path dir;

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = ImageDecoderWebPTest.class.getResourceAsStream("/webp/" + name)) {
      return in.readAllBytes();
    }
  }

  private static int[] rgb(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  @Test
  void losslessDecodesToTheSourcePixels() throws IOException {
    BufferedImage png = ImageDecoder.read(resource("gradient.png"), "gradient.png");
    Path webp = Files.write(dir.resolve("gradient.webp"), resource("gradient-lossless.webp"));
    assertTrue(ImageDecoder.hasImageExtension(webp));
    assertEquals(null, ImageDecoder.probe(webp));
    BufferedImage img = ImageDecoder.read(webp);
    assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
    assertEquals(24, img.getWidth());
    assertEquals(16, img.getHeight());
    assertTrue(Arrays.equals(rgb(png), rgb(img)), "lossless WebP equals the PNG it was made from");
  }

  @Test
  void lossyDecodesCloseToTheSourceAndTheSameEveryTime() throws IOException {
    BufferedImage png = ImageDecoder.read(resource("gradient.png"), "gradient.png");
    BufferedImage img = ImageDecoder.read(resource("gradient-lossy.webp"), "gradient-lossy.webp");
    assertEquals(png.getWidth(), img.getWidth());
    assertEquals(png.getHeight(), img.getHeight());
    int[] a = rgb(png);
    int[] b = rgb(img);
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      for (int shift = 0; shift < 24; shift += 8) {
        sum += Math.abs(((a[i] >> shift) & 0xff) - ((b[i] >> shift) & 0xff));
      }
    }
    double mean = sum / (a.length * 3.0);
    assertTrue(mean < 12, "mean absolute error " + mean);
    assertTrue(mean > 0, "lossy is not bit-exact: " + mean);
    assertTrue(
        Arrays.equals(b, rgb(ImageDecoder.read(resource("gradient-lossy.webp"), "again"))),
        "deterministic");
  }

  @Test
  void aTruncatedWebPNamesTheFile() throws IOException {
    byte[] all = resource("gradient-lossy.webp");
    Path cut = Files.write(dir.resolve("cut.webp"), Arrays.copyOf(all, all.length / 2));
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.read(cut));
    assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
  }
}
