package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Preprocessing;
import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class ImageTransformTest {

  @TempDir Path dir;

  /** Pixel (x, y) of the known 8x8 image. */
  static int r(int x, int y) {
    return 10 * x + 5;
  }

  static int g(int x, int y) {
    return 20 * y + 3;
  }

  static int b(int x, int y) {
    return 200 - x - 3 * y;
  }

  /** The known image, written as a real PNG and decoded again. */
  private BufferedImage known() throws Exception {
    BufferedImage img = TestImages.rgb(8, 8, (x, y) -> (r(x, y) << 16) | (g(x, y) << 8) | b(x, y));
    return ImageDecoder.read(TestImages.write(img, "png", dir.resolve("known.png")));
  }

  private static float at(float[] chw, int c, int y, int x, int size) {
    return chw[c * size * size + y * size + x];
  }

  @Test
  void caffeIsBgrMinusImagenetMeans() throws Exception {
    float[] chw =
        new ImageTransform(8, ResizeMode.CENTER_CROP, Preprocessing.caffe()).toChw(known());
    assertEquals(3 * 64, chw.length);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        assertEquals(b(x, y) - 103.939f, at(chw, 0, y, x, 8), 1e-3, "B at " + x + "," + y);
        assertEquals(g(x, y) - 116.779f, at(chw, 1, y, x, 8), 1e-3, "G");
        assertEquals(r(x, y) - 123.68f, at(chw, 2, y, x, 8), 1e-3, "R");
      }
    }
  }

  @Test
  void inceptionIsRgbInMinusOneToOne() throws Exception {
    float[] chw = ImageTransform.of(8, Preprocessing.inception()).toChw(known());
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        assertEquals(r(x, y) / 127.5f - 1, at(chw, 0, y, x, 8), 1e-5);
        assertEquals(g(x, y) / 127.5f - 1, at(chw, 1, y, x, 8), 1e-5);
        assertEquals(b(x, y) / 127.5f - 1, at(chw, 2, y, x, 8), 1e-5);
      }
    }
  }

  @Test
  void unitOnARealMnistDigit() throws Exception {
    Path png = Path.of("src/test/resources/mnist/3/" + ImageDecoderTest.firstFile("3"));
    BufferedImage raw = javax.imageio.ImageIO.read(png.toFile());
    float[] chw = ImageTransform.of(28, Preprocessing.unit()).toChw(png);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
          assertEquals(raw.getRaster().getSample(x, y, 0) / 255f, at(chw, c, y, x, 28), 1e-5);
        }
      }
    }
  }

  private static ResizeMode padEdge(double margin) {
    return ResizeMode.pad(margin, ResizeMode.Pad.Fill.extendEdge());
  }

  @Test
  void padFitsTheWholeImageInsideWithAMarginAndAColour() {
    BufferedImage wide = TestImages.rgb(40, 20, (x, y) -> 0xFFFFFF);
    ResizeMode black = ResizeMode.pad(0, ResizeMode.Pad.Fill.rgb(0, 0, 0));
    float[] chw = new ImageTransform(20, black, Preprocessing.none()).toChw(wide);
    for (int y = 0; y < 20; y++) {
      float expected = y >= 5 && y < 15 ? 255f : 0f; // 40x20 -> 20x10, centred
      for (int x = 0; x < 20; x++) {
        for (int c = 0; c < 3; c++) {
          assertEquals(expected, at(chw, c, y, x, 20), 1e-3, "(" + c + "," + y + "," + x + ")");
        }
      }
    }
    // a quarter of the side free on each side: 40x20 -> 10x5 at (5, 7), grey around it
    ResizeMode grey = ResizeMode.pad(0.25, ResizeMode.Pad.Fill.rgb(128, 64, 32));
    float[] m = new ImageTransform(20, grey, Preprocessing.none()).toChw(wide);
    for (int y = 0; y < 20; y++) {
      for (int x = 0; x < 20; x++) {
        boolean inside = y >= 7 && y < 12 && x >= 5 && x < 15;
        assertEquals(inside ? 255f : 128f, at(m, 0, y, x, 20), 1e-3, "(" + y + "," + x + ")");
        assertEquals(inside ? 255f : 32f, at(m, 2, y, x, 20), 1e-3);
      }
    }
  }

  @Test
  void padWithTheEdgeExtendsTheBorderPixels() {
    // a wide image, red on top and blue below: the border above is red, below blue
    BufferedImage img = TestImages.rgb(60, 30, (x, y) -> y < 15 ? 0xFF0000 : 0x0000FF);
    float[] chw = new ImageTransform(30, ResizeMode.pad(), Preprocessing.none()).toChw(img);
    for (int x = 0; x < 30; x++) {
      assertEquals(255f, at(chw, 0, 0, x, 30), 1e-3);
      assertEquals(0f, at(chw, 2, 0, x, 30), 1e-3);
      assertEquals(255f, at(chw, 2, 29, x, 30), 1e-3);
      assertEquals(0f, at(chw, 0, 29, x, 30), 1e-3);
    }
  }

  @Test
  void resizeModesReadBackWhatTheyRecord() {
    for (ResizeMode mode :
        List.of(
            ResizeMode.CENTER_CROP,
            ResizeMode.STRETCH,
            ResizeMode.pad(),
            ResizeMode.pad(0.125, ResizeMode.Pad.Fill.rgb(1, 2, 255)))) {
      assertEquals(mode, ResizeMode.parse(mode.name()));
    }
    assertEquals(ResizeMode.CENTER_CROP, ResizeMode.parse("center-crop"));
    assertEquals(ResizeMode.pad(), ResizeMode.parse("pad"));
    assertThrows(GraftException.class, () -> ResizeMode.parse("PAD(margin=0.7,fill=edge)"));
    assertThrows(GraftException.class, () -> ResizeMode.parse("zoom"));
  }

  @Test
  void uniformImageStaysUniformAtAnySize() {
    BufferedImage img = TestImages.rgb(301, 199, (x, y) -> 0x0AC81E); // (10, 200, 30)
    for (ResizeMode mode :
        List.of(ResizeMode.CENTER_CROP, ResizeMode.STRETCH, ResizeMode.pad(), padEdge(0.2))) {
      float[] chw = new ImageTransform(224, mode, Preprocessing.none()).toChw(img);
      for (int i = 0; i < 224 * 224; i++) {
        assertEquals(10f, chw[i], 1e-3);
        assertEquals(200f, chw[224 * 224 + i], 1e-3);
        assertEquals(30f, chw[2 * 224 * 224 + i], 1e-3);
      }
    }
  }

  @Test
  void downscalingAveragesInsteadOfAliasing() {
    // A one-pixel checkerboard halved: nearest-neighbour would give pure black or white.
    BufferedImage img = TestImages.rgb(64, 64, (x, y) -> ((x + y) % 2 == 0) ? 0 : 0xFFFFFF);
    float[] chw = ImageTransform.of(32, Preprocessing.none()).toChw(img);
    for (int y = 1; y < 31; y++) {
      for (int x = 1; x < 31; x++) {
        assertEquals(127.5f, at(chw, 1, y, x, 32), 0.01f);
      }
    }
    // Upscaling interpolates between pixels.
    BufferedImage two = TestImages.rgb(2, 1, (x, y) -> x == 0 ? 0 : 0xFFFFFF);
    float[] up = new ImageTransform(4, ResizeMode.STRETCH, Preprocessing.none()).toChw(two);
    assertEquals(0f, at(up, 0, 0, 0, 4), 1e-3);
    assertEquals(63.75f, at(up, 0, 0, 1, 4), 1e-3);
    assertEquals(191.25f, at(up, 0, 0, 2, 4), 1e-3);
    assertEquals(255f, at(up, 0, 0, 3, 4), 1e-3);
  }

  @Test
  void centerCropKeepsTheMiddleAndStretchKeepsEverything() {
    // Thirds: red | green | blue, 300 x 100.
    BufferedImage img =
        TestImages.rgb(300, 100, (x, y) -> x < 100 ? 0xFF0000 : x < 200 ? 0x00FF00 : 0x0000FF);
    float[] crop = new ImageTransform(30, ResizeMode.CENTER_CROP, Preprocessing.none()).toChw(img);
    for (int x = 2; x < 28; x++) {
      assertEquals(255f, at(crop, 1, 15, x, 30), 1e-3, "green everywhere inside the crop");
      assertEquals(0f, at(crop, 0, 15, x, 30), 1e-3);
    }
    float[] stretch = new ImageTransform(30, ResizeMode.STRETCH, Preprocessing.none()).toChw(img);
    assertEquals(255f, at(stretch, 0, 15, 3, 30), 1e-3, "red on the left");
    assertEquals(255f, at(stretch, 1, 15, 15, 30), 1e-3, "green in the middle");
    assertEquals(255f, at(stretch, 2, 15, 26, 30), 1e-3, "blue on the right");
  }

  @Test
  void aSubImageIsReadAsItsOwnPixels() throws Exception {
    // getSubimage shares the parent's buffer, offset and wider rows: reading the buffer as packed
    // pixels would give the parent's top-left corner
    BufferedImage parent = TestImages.photo(40, 30, 3);
    BufferedImage view = parent.getSubimage(7, 5, 20, 16);
    BufferedImage copy = new BufferedImage(20, 16, BufferedImage.TYPE_INT_RGB);
    copy.setRGB(0, 0, 20, 16, parent.getRGB(7, 5, 20, 16, null, 0, 20), 0, 20);
    ImageTransform t = new ImageTransform(16, ResizeMode.STRETCH, Preprocessing.none());
    assertEquals(BufferedImage.TYPE_INT_RGB, view.getType());
    assertArrayEquals(t.toChw(copy), t.toChw(view), 0f);
    assertFalse(
        java.util.Arrays.equals(t.toChw(copy), t.toChw(parent.getSubimage(0, 0, 20, 16))),
        "the view's own corner differs from the parent's");
  }

  @Test
  void toBatchStacksToNchw() throws Exception {
    ImageTransform t = ImageTransform.of(8, Preprocessing.caffe());
    BufferedImage k = known();
    INDArray batch = t.toBatch(List.of(k, TestImages.photo(50, 40, 1), k));
    assertArrayEquals(new long[] {3, 3, 8, 8}, batch.shape());
    assertEquals(DataType.FLOAT, batch.dataType());
    float[] single = t.toChw(k);
    assertArrayEquals(
        single,
        batch.get(org.nd4j.linalg.indexing.NDArrayIndex.point(2)).dup().data().asFloat(),
        1e-6f);
    assertEquals(b(3, 5) - 103.939f, batch.getFloat(0, 0, 5, 3), 1e-3);
  }

  @Test
  void augmentationIsSeededAndChangesPixels() {
    ImageTransform t = ImageTransform.of(32, Preprocessing.unit());
    BufferedImage img = TestImages.photo(120, 80, 4);
    Augmentation aug = Augmentation.standard();
    float[] a1 = t.toChw(img, aug, new SplittableRandom(7));
    float[] a2 = t.toChw(img, aug, new SplittableRandom(7));
    float[] a3 = t.toChw(img, aug, new SplittableRandom(8));
    assertArrayEquals(a1, a2, "same seed, same pixels");
    assertFalse(java.util.Arrays.equals(a1, a3), "another seed, other pixels");
    assertFalse(java.util.Arrays.equals(a1, t.toChw(img)), "augmented differs from plain");
    for (float v : a1) {
      assertTrue(v >= 0f && v <= 1f, "stays in the preprocessing range: " + v);
    }
    assertArrayEquals(t.toChw(img), t.toChw(img, Augmentation.none(), new SplittableRandom(1)));
  }

  @Test
  void flipMirrorsExactly() {
    ImageTransform t = new ImageTransform(16, ResizeMode.STRETCH, Preprocessing.none());
    BufferedImage img = TestImages.photo(16, 16, 5);
    float[] plain = t.toChw(img);
    Augmentation flip = Augmentation.none().withFlip(true);
    int flipped = 0;
    for (int seed = 0; seed < 20; seed++) {
      float[] a = t.toChw(img, flip, new SplittableRandom(seed));
      if (java.util.Arrays.equals(a, plain)) {
        continue;
      }
      flipped++;
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 16; y++) {
          for (int x = 0; x < 16; x++) {
            assertEquals(at(plain, c, y, 15 - x, 16), at(a, c, y, x, 16), 1e-4);
          }
        }
      }
    }
    assertTrue(flipped > 3 && flipped < 17, "about half flipped: " + flipped);
  }

  @Test
  void rotationAndCropKeepUniformImagesUniform() {
    // No empty corners: a rotated, cropped uniform image is still uniform.
    BufferedImage img = TestImages.rgb(90, 60, (x, y) -> 0x808080);
    Augmentation aug = Augmentation.none().withRotation(15).withCrop(0.5);
    float[] a =
        new ImageTransform(24, ResizeMode.CENTER_CROP, Preprocessing.none())
            .toChw(img, aug, new SplittableRandom(3));
    for (float v : a) {
      assertEquals(128f, v, 1e-3);
    }
  }

  @Test
  void badSettingsAreRejectedWithTheValue() {
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> new ImageTransform(0, ResizeMode.STRETCH, Preprocessing.unit()));
    assertTrue(e.getMessage().contains("at least 1 pixel, got 0"), e.getMessage());
    e = assertThrows(GraftException.class, () -> Augmentation.none().withRotation(90));
    assertTrue(e.getMessage().contains("90"));
    assertThrows(GraftException.class, () -> Augmentation.none().withCrop(0));
    assertFalse(Augmentation.none().enabled());
    assertTrue(Augmentation.standard().enabled());
    e =
        assertThrows(
            GraftException.class,
            () ->
                ImageTransform.of(8, Preprocessing.unit())
                    .toChw(TestImages.photo(9, 9, 1), Augmentation.standard(), null));
    assertTrue(e.getMessage().contains("random"));
  }
}
