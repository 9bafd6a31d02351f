package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Images whose headers declare far more pixels than their bytes could hold, and image-named files
 * that are FIFOs, {@code /dev/zero} or sparse giants: refused by the header probe and by the
 * decoder, in well under a second, without decoding.
 */
class HostileImagesTest {
  private static final Duration QUICK = Duration.ofSeconds(5);
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(HostileImages.Format.class)
  void hugeDeclaredSizeIsRefusedBeforeDecoding(HostileImages.Format format) throws Exception {
    Path file = HostileImages.huge(dir, format);
    assertTrue(Files.size(file) < 1000, format + " is " + Files.size(file) + " bytes");
    // The header really declares the size: the format's own reader reports it.
    try (ImageInputStream iis = ImageIO.createImageInputStream(file.toFile())) {
      ImageReader r =
          format.extension.equals("webp")
              ? new com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi()
                  .createReaderInstance()
              : jdkReaderFirst(iis);
      r.setInput(iis);
      assertTrue((long) r.getWidth(0) * r.getHeight(0) > ImageDecoder.MAX_PIXELS);
      r.dispose();
    }
    String reason = assertTimeoutPreemptively(QUICK, () -> ImageDecoder.probe(file));
    assertNotNull(reason, format.toString());
    assertTrue(reason.contains("refused before decoding"), reason);
    IOException e =
        assertTimeoutPreemptively(
            QUICK, () -> assertThrows(IOException.class, () -> ImageDecoder.read(file)));
    assertTrue(e.getMessage().startsWith(file + ": declares "), e.getMessage());
  }

  /** The JDK's own reader where there is one, as {@link ImageDecoder} picks. */
  private static ImageReader jdkReaderFirst(ImageInputStream iis) {
    java.util.List<ImageReader> all = new java.util.ArrayList<>();
    ImageIO.getImageReaders(iis).forEachRemaining(all::add);
    return all.stream()
        .filter(r -> r.getClass().getName().startsWith("com.sun.imageio."))
        .findFirst()
        .orElse(all.get(0));
  }

  @Test
  void specialAndGiantFilesAreRefusedUnread() throws Exception {
    Path[] files = {
      HostileImages.fifo(dir, "fifo.jpg"),
      HostileImages.devZero(dir, "zero.jpg"),
      HostileImages.sparse(dir, "sparse.png", 3L << 30)
    };
    for (Path f : files) {
      String reason = assertTimeoutPreemptively(QUICK, () -> ImageDecoder.probe(f));
      assertTrue(reason != null && reason.contains("refused"), f + ": " + reason);
      IOException e =
          assertTimeoutPreemptively(
              QUICK, () -> assertThrows(IOException.class, () -> ImageDecoder.read(f)));
      assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
    }
  }

  /**
   * Found by the fuzzer (ImageDecoderFuzzTestInputs/fuzz/slow-unit-c138...): a 41-byte lossless
   * WebP declaring 16384 x 136 pixels (within every budget) whose data ends at once; TwelveMonkeys'
   * reader took each missing byte for zeros, catching one EOFException per byte: 16 s, 152 s under
   * the fuzzer. Reading far past the end now fails at once.
   */
  /**
   * TwelveMonkeys' WebP reader ignores {@code ImageReader.abort()}: the decode-time budget holds
   * anyway, because past it the input fails every read. An 8192 x 8192 lossless WebP of one bit per
   * pixel (8 MB, within every budget; 4.2 s to decode on a loaded machine) given 100 ms is stopped
   * at its next read and refused naming the budget; the same file decodes with the default budget.
   */
  @Test
  void aWebPDecodeOverItsTimeBudgetIsStoppedAtItsNextRead() throws Exception {
    byte[] b = HostileImages.losslessWebP(8192, 8192, true, 0);
    long start = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(b, "slow.webp", 100));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(
        e.getMessage().contains("slow.webp: decoding took longer than 100 ms"), e.toString());
    assertTrue(millis < 2_000, "stopped after " + millis + " ms");
    // A valid file whose data ends at its last bit (the bit reader probes 8 bytes past it).
    byte[] small = HostileImages.losslessWebP(512, 512, true, 0);
    assertEquals(512, ImageDecoder.read(small, "ok.webp").getWidth());
  }

  @Test
  void aDecoderReadingPastTheEndIsStopped() throws Exception {
    byte[] b = new byte[41];
    byte[] head = {
      'R',
      'I',
      'F',
      'F',
      0x21,
      0,
      0,
      0,
      'W',
      'E',
      'B',
      'P',
      'V',
      'P',
      '8',
      'L',
      0x15,
      0,
      0,
      0,
      0x2f,
      (byte) 0xff,
      (byte) 0xff,
      0x21
    };
    System.arraycopy(head, 0, b, 0, head.length);
    Path file = Files.write(dir.resolve("past-end.webp"), b);
    assertTrue(ImageDecoder.probe(file) == null, "the header is within every budget");
    IOException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(3),
            () -> assertThrows(IOException.class, () -> ImageDecoder.read(file)));
    assertTrue(e.getMessage().contains("past the end"), e.getMessage());
  }

  @Test
  void anOrdinaryImageStillDecodes() throws Exception {
    Path png = dir.resolve("ok.png");
    java.awt.image.BufferedImage img =
        new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB);
    ImageIO.write(img, "png", png.toFile());
    assertTrue(ImageDecoder.probe(png) == null);
    assertTrue(ImageDecoder.read(png).getWidth() == 40);
  }
}
