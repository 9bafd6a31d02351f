package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderTest {

  @TempDir Path dir;

  static final int RED = 0xFF0000;
  static final int GREEN = 0x00FF00;
  static final int BLUE = 0x0000FF;
  static final int WHITE = 0xFFFFFF;

  private static void assertColor(int expected, int actual, int tolerance, String where) {
    for (int shift = 0; shift <= 16; shift += 8) {
      int e = (expected >> shift) & 0xFF;
      int a = (actual >> shift) & 0xFF;
      assertTrue(
          Math.abs(e - a) <= tolerance,
          where
              + ": expected "
              + Integer.toHexString(expected)
              + " got "
              + Integer.toHexString(actual & 0xFFFFFF));
    }
  }

  @Test
  void mnistPngGraySamplesAreKeptExactly() throws Exception {
    Path png = Path.of("src/test/resources/mnist/7/" + firstFile("7"));
    BufferedImage raw = ImageIO.read(png.toFile());
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, raw.getType());
    BufferedImage img = ImageDecoder.read(png);
    assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
    assertEquals(28, img.getWidth());
    Raster r = raw.getRaster();
    int nonZero = 0;
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        int v = r.getSample(x, y, 0);
        nonZero += v > 0 ? 1 : 0;
        // No linear-to-sRGB curve: the stored gray value goes to all three channels.
        assertEquals((v << 16) | (v << 8) | v, img.getRGB(x, y) & 0xFFFFFF, "pixel " + x + "," + y);
      }
    }
    assertTrue(nonZero > 50);
  }

  static String firstFile(String digit) throws IOException {
    try (var s = Files.list(Path.of("src/test/resources/mnist", digit))) {
      return s.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"png", "bmp", "tiff", "gif"})
  void losslessFormatsRoundTrip(String format) throws Exception {
    BufferedImage src = TestImages.quadrants(20, 10);
    Path file = TestImages.write(src, format, dir.resolve("q." + format));
    BufferedImage img = ImageDecoder.read(file);
    assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
    assertEquals(20, img.getWidth());
    assertEquals(10, img.getHeight());
    for (int y = 0; y < 10; y++) {
      for (int x = 0; x < 20; x++) {
        assertEquals(src.getRGB(x, y) & 0xFFFFFF, img.getRGB(x, y) & 0xFFFFFF, format);
      }
    }
  }

  @Test
  void pngGrayRgbaPalette16BitAndAlphaOnWhite() throws Exception {
    // 8-bit gray
    BufferedImage gray = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
    gray.getRaster().setSample(1, 2, 0, 77);
    BufferedImage g = ImageDecoder.read(TestImages.write(gray, "png", dir.resolve("g.png")));
    assertEquals(0x4D4D4D, g.getRGB(1, 2) & 0xFFFFFF);
    assertEquals(0, g.getRGB(0, 0) & 0xFFFFFF);

    // 16-bit gray: 0x8080 -> 128, 0xFFFF -> 255
    BufferedImage gray16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    gray16.getRaster().setSample(0, 0, 0, 0x8080);
    gray16.getRaster().setSample(1, 0, 0, 0xFFFF);
    BufferedImage g16 = ImageDecoder.read(TestImages.write(gray16, "png", dir.resolve("g16.png")));
    assertEquals(0x808080, g16.getRGB(0, 0) & 0xFFFFFF);
    assertEquals(0xFFFFFF, g16.getRGB(1, 0) & 0xFFFFFF);

    // 16-bit RGB
    BufferedImage rgb16 = TestImages.rgb16(3, 2, new int[] {65535, 32896, 0});
    Path p16 = TestImages.write(rgb16, "png", dir.resolve("rgb16.png"));
    assertEquals(16, ImageIO.read(p16.toFile()).getColorModel().getComponentSize(0));
    assertEquals(0xFF8000, ImageDecoder.read(p16).getRGB(2, 1) & 0xFFFFFF);

    // RGBA: transparent -> white, half-transparent black -> mid gray, opaque kept
    BufferedImage rgba = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
    rgba.setRGB(0, 0, 0x00000000);
    rgba.setRGB(1, 0, 0x80000000);
    rgba.setRGB(2, 0, 0xFF123456);
    BufferedImage a = ImageDecoder.read(TestImages.write(rgba, "png", dir.resolve("rgba.png")));
    assertEquals(WHITE, a.getRGB(0, 0) & 0xFFFFFF);
    assertColor(0x7F7F7F, a.getRGB(1, 0), 1, "half alpha");
    assertEquals(0x123456, a.getRGB(2, 0) & 0xFFFFFF);

    // Gray + alpha: transparent -> white, opaque gray kept
    BufferedImage ga =
        javax.imageio.ImageTypeSpecifier.createGrayscale(
                8, java.awt.image.DataBuffer.TYPE_BYTE, false, false)
            .createBufferedImage(2, 1);
    ga.getRaster().setPixel(0, 0, new int[] {40, 0});
    ga.getRaster().setPixel(1, 0, new int[] {40, 255});
    BufferedImage gaImg = ImageDecoder.read(TestImages.write(ga, "png", dir.resolve("ga.png")));
    assertEquals(WHITE, gaImg.getRGB(0, 0) & 0xFFFFFF);
    assertEquals(0x282828, gaImg.getRGB(1, 0) & 0xFFFFFF);

    // Palette with a transparent entry, PNG and GIF
    BufferedImage pal = TestImages.palette(16, 16);
    for (String format : new String[] {"png", "gif"}) {
      Path f = TestImages.write(pal, format, dir.resolve("pal." + format));
      BufferedImage p = ImageDecoder.read(f);
      assertEquals(RED, p.getRGB(0, 0) & 0xFFFFFF, format);
      assertEquals(GREEN, p.getRGB(4, 0) & 0xFFFFFF, format);
      assertEquals(BLUE, p.getRGB(8, 0) & 0xFFFFFF, format);
      assertEquals(WHITE, p.getRGB(12, 0) & 0xFFFFFF, format + " transparent entry on white");
    }
  }

  @Test
  void grayJpegAndRgbJpeg() throws Exception {
    BufferedImage gray = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        gray.getRaster().setSample(x, y, 0, 100);
      }
    }
    BufferedImage g = ImageDecoder.read(TestImages.write(gray, "jpeg", dir.resolve("g.jpg")));
    assertColor(0x646464, g.getRGB(8, 8), 2, "gray jpeg");
    BufferedImage q =
        ImageDecoder.read(
            Files.write(
                dir.resolve("q.jpg"), TestImages.jpegBytes(TestImages.quadrants(64, 32), 0.95f)));
    assertColor(RED, q.getRGB(8, 8), 40, "jpeg red");
    assertColor(WHITE, q.getRGB(56, 24), 40, "jpeg white");
  }

  /** Expected colours of the quadrants TL, TR, BL, BR after each EXIF orientation. */
  static final Map<Integer, int[]> ORIENTED =
      Map.of(
          1, new int[] {RED, GREEN, BLUE, WHITE},
          2, new int[] {GREEN, RED, WHITE, BLUE},
          3, new int[] {WHITE, BLUE, GREEN, RED},
          4, new int[] {BLUE, WHITE, RED, GREEN},
          5, new int[] {RED, BLUE, GREEN, WHITE},
          6, new int[] {BLUE, RED, WHITE, GREEN},
          7, new int[] {WHITE, GREEN, BLUE, RED},
          8, new int[] {GREEN, WHITE, RED, BLUE});

  @ParameterizedTest
  @CsvSource({
    "1,true,false",
    "2,false,false",
    "3,true,true",
    "4,false,false",
    "5,true,false",
    "6,true,false",
    "6,false,true",
    "7,false,false",
    "8,true,true",
    "8,false,false"
  })
  void exifOrientationIsApplied(int orientation, boolean bigEndian, boolean cameraStyle)
      throws Exception {
    byte[] jpeg =
        TestImages.jpegWithOrientation(
            TestImages.quadrants(64, 32), orientation, bigEndian, cameraStyle);
    assertEquals(cameraStyle, (jpeg[3] & 0xFF) == 0xE1, "EXIF segment first, no JFIF");
    assertEquals(orientation, ExifOrientation.of(jpeg));
    Path file = Files.write(dir.resolve("o" + orientation + ".jpg"), jpeg);
    // ImageIO itself ignores the tag.
    assertEquals(64, ImageIO.read(file.toFile()).getWidth());
    BufferedImage img = ImageDecoder.read(file);
    boolean swapped = orientation >= 5;
    assertEquals(swapped ? 32 : 64, img.getWidth());
    assertEquals(swapped ? 64 : 32, img.getHeight());
    int w = img.getWidth();
    int h = img.getHeight();
    int[] expected = ORIENTED.get(orientation);
    assertColor(expected[0], img.getRGB(w / 4, h / 4), 40, "top-left, orientation " + orientation);
    assertColor(expected[1], img.getRGB(3 * w / 4, h / 4), 40, "top-right");
    assertColor(expected[2], img.getRGB(w / 4, 3 * h / 4), 40, "bottom-left");
    assertColor(expected[3], img.getRGB(3 * w / 4, 3 * h / 4), 40, "bottom-right");
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 6, 8})
  void tiffOrientationIsApplied(int orientation) throws Exception {
    byte[] tiff = TestImages.tiffWithOrientation(TestImages.quadrants(64, 32), orientation);
    assertEquals(orientation, ExifOrientation.of(tiff));
    BufferedImage img = ImageDecoder.read(Files.write(dir.resolve("o.tif"), tiff));
    int w = img.getWidth();
    int h = img.getHeight();
    assertEquals(orientation >= 5 ? 32 : 64, w);
    int[] expected = ORIENTED.get(orientation);
    assertEquals(expected[0], img.getRGB(w / 4, h / 4) & 0xFFFFFF);
    assertEquals(expected[3], img.getRGB(3 * w / 4, 3 * h / 4) & 0xFFFFFF);
  }

  @Test
  void cmykJpegIsConverted() throws Exception {
    Path file = Files.write(dir.resolve("print.jpg"), TestImages.cmykJpeg(32, 32));
    BufferedImage img = ImageDecoder.read(file);
    assertColor(RED, img.getRGB(16, 4), 30, "top");
    assertColor(BLUE, img.getRGB(16, 28), 30, "bottom");
  }

  @Test
  void noExifMeansOrientationOne() throws Exception {
    assertEquals(1, ExifOrientation.of(TestImages.jpegBytes(TestImages.quadrants(8, 8), 0.9f)));
    assertEquals(1, ExifOrientation.of(new byte[] {1, 2, 3}));
  }

  @Test
  void badFilesThrowIoExceptionNamingTheFile() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.png"));
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.read(empty));
    assertTrue(
        e.getMessage().contains("empty.png") && e.getMessage().contains("zero-byte"),
        e.getMessage());
    assertEquals("zero-byte file", ImageDecoder.probe(empty));

    Path text = Files.writeString(dir.resolve("notes.jpg"), "these are not pixels\n");
    e = assertThrows(IOException.class, () -> ImageDecoder.read(text));
    assertTrue(
        e.getMessage().contains("notes.jpg") && e.getMessage().contains("not an image"),
        e.getMessage());
    assertTrue(ImageDecoder.probe(text).startsWith("not an image"));

    byte[] jpeg = TestImages.jpegBytes(TestImages.photo(200, 150, 1), 0.9f);
    Path jpg = Files.write(dir.resolve("photo.jpg"), jpeg);
    assertNull(ImageDecoder.probe(jpg));
    Path cut = TestImages.truncate(jpg, dir.resolve("cut.jpg"), 0.5);
    e = assertThrows(IOException.class, () -> ImageDecoder.read(cut));
    assertTrue(
        e.getMessage().contains("cut.jpg") && e.getMessage().contains("truncated"), e.getMessage());
    assertNull(ImageDecoder.probe(cut), "a truncated file passes the header check");
  }

  @ParameterizedTest
  @ValueSource(strings = {"png", "gif", "bmp", "tiff", "jpeg"})
  void truncatedFilesOfEveryFormatAreRejected(String format) throws Exception {
    Path file = TestImages.write(TestImages.photo(120, 90, 2), format, dir.resolve("p." + format));
    ImageDecoder.read(file);
    Path cut = TestImages.truncate(file, dir.resolve("cut." + format), 0.6);
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.read(cut));
    assertTrue(e.getMessage().contains("cut." + format), e.getMessage());
  }

  /** Compressed formats notice garbage; uncompressed BMP and TIFF pixels cannot be checked. */
  @ParameterizedTest
  @ValueSource(strings = {"png", "gif", "jpeg"})
  void garbledFilesAreRejected(String format) throws Exception {
    Path file = TestImages.write(TestImages.photo(120, 90, 3), format, dir.resolve("p." + format));
    Path bad = TestImages.garble(file, dir.resolve("bad." + format));
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.read(bad));
    assertTrue(e.getMessage().contains("bad." + format), e.getMessage());
  }

  @Test
  void aHeaderClaimingAHugeImageFailsCleanly() throws Exception {
    Path small = TestImages.write(TestImages.photo(16, 16, 1), "png", dir.resolve("s.png"));
    byte[] b = Files.readAllBytes(small);
    // IHDR data starts at byte 16: width and height, big-endian; then fix the chunk's CRC.
    java.nio.ByteBuffer.wrap(b, 16, 8).putInt(60000).putInt(60000);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(b, 12, 17);
    java.nio.ByteBuffer.wrap(b, 29, 4).putInt((int) crc.getValue());
    Path bomb = Files.write(dir.resolve("bomb.png"), b);
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.read(bomb));
    assertTrue(e.getMessage().contains("bomb.png"), e.getMessage());
  }

  @Test
  void pngNamedJpgIsReadByContent() throws Exception {
    Path f = TestImages.write(TestImages.quadrants(8, 8), "png", dir.resolve("actually-png.jpg"));
    assertEquals(RED, ImageDecoder.read(f).getRGB(0, 0) & 0xFFFFFF);
  }

  @Test
  void extensions() {
    assertTrue(ImageDecoder.hasImageExtension(Path.of("a/B.JPG")));
    assertTrue(ImageDecoder.hasImageExtension(Path.of("x.tiff")));
    assertTrue(!ImageDecoder.hasImageExtension(Path.of("notes.txt")));
    assertTrue(!ImageDecoder.hasImageExtension(Path.of("jpg")));
  }
}
