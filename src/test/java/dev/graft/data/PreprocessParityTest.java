package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Interpolation;
import dev.graft.base.Preprocessing;
import dev.graft.io.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Graft's evaluation resize of a real photo against torchvision's own, from the fixture {@code
 * tools/torch_preprocess.py} wrote under {@code src/test/resources/torch/preprocess}: {@code
 * Resize(int(size / f))}, {@code CenterCrop(size)}, {@code ToTensor()}, {@code Normalize} with
 * bilinear and bicubic filters, landscape and portrait, downscaling and upscaling.
 *
 * <p>Tolerances: PIL rounds to 8 bits after each of its two passes, so its levels are met to within
 * 1.5 levels (of 255; 1.0 measured); torchvision's float (tensor) resize uses the same taps without
 * rounding, so the normalised output is met to 1e-4.
 */
class PreprocessParityTest {
  private static final Path DIR = Path.of("src/test/resources/torch/preprocess");

  /** One fixture case: "photo_48_0.875_bicubic". */
  private record Case(String name, String photo, int size, float crop, Interpolation filter) {
    static Case parse(String name) {
      String[] p = name.split("_");
      return new Case(
          name, p[0], Integer.parseInt(p[1]), Float.parseFloat(p[2]), Interpolation.parse(p[3]));
    }

    ImageTransform transform(Preprocessing p) {
      return new ImageTransform(size, ResizeMode.CENTER_CROP, p);
    }

    Preprocessing preprocessing() {
      return Preprocessing.torch().withCrop(crop, filter);
    }

    BufferedImage image() throws Exception {
      return ImageDecoder.read(DIR.resolve(photo + ".png"));
    }
  }

  private static List<Case> cases(SafetensorsFile f) {
    List<Case> out = new ArrayList<>();
    for (String n : f.names()) {
      if (n.endsWith(".pil")) {
        out.add(Case.parse(n.substring(0, n.length() - 4)));
      }
    }
    return out;
  }

  private static float maxAbs(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    float m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  private static float meanAbs(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs(a[i] - b[i]);
    }
    return (float) (s / a.length);
  }

  @Test
  void photoThroughGraftEqualsTorchvision() throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(DIR.resolve("preprocess.safetensors"))) {
      List<Case> cases = cases(f);
      assertEquals(4, cases.size(), "cases in the fixture");
      for (Case c : cases) {
        ImageTransform t = c.transform(c.preprocessing());
        BufferedImage img = c.image();
        float[] levels = t.toRgbChw(img, Augmentation.none(), null);
        float[] pil = f.read(c.name() + ".pil").reshape(-1).toFloatVector();
        float[] chw = t.toChw(img);
        float[] tensor = f.read(c.name() + ".tensor").reshape(-1).toFloatVector();
        float levelErr = maxAbs(levels, pil);
        float tensorErr = maxAbs(chw, tensor);
        System.out.printf(
            Locale.ROOT,
            "%s: PIL max %.3f mean %.4f levels; tensor max abs %.2e%n",
            c.name(),
            levelErr,
            meanAbs(levels, pil),
            tensorErr);
        assertTrue(levelErr <= 1.5f, c.name() + ": " + levelErr + " levels from torchvision/PIL");
        assertTrue(tensorErr <= 1e-4f, c.name() + ": " + tensorErr + " from torchvision (tensor)");
      }
    }
  }

  /** The comparison can fail: the whole square, or the other filter, is far from the reference. */
  @Test
  void wholeSquareOrOtherFilterIsFarFromTheReference() throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(DIR.resolve("preprocess.safetensors"))) {
      for (Case c : cases(f)) {
        float[] tensor = f.read(c.name() + ".tensor").reshape(-1).toFloatVector();
        BufferedImage img = c.image();
        float[] whole = c.transform(Preprocessing.torch()).toChw(img);
        Interpolation other =
            c.filter() == Interpolation.BILINEAR ? Interpolation.BICUBIC : Interpolation.BILINEAR;
        float[] otherFilter =
            c.transform(Preprocessing.torch().withCrop(c.crop(), other)).toChw(img);
        assertTrue(maxAbs(whole, tensor) > 0.5f, c.name() + " whole square");
        assertTrue(maxAbs(otherFilter, tensor) > 0.05f, c.name() + " " + other);
      }
    }
  }
}
