package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Preprocessing numerics on known pixel values, per base, against Keras's formulas by hand. */
class PreprocessingTest {
  /** Two pixels, RGB in [0, 255]: (255, 128, 0) and (10, 20, 30), channel-major. */
  private static final float[] PIXELS = {255f, 10f, 128f, 20f, 0f, 30f};

  /**
   * Expected output per base, channel-major in the base's channel order. caffe: BGR, minus the
   * ImageNet means (B 103.939, G 116.779, R 123.68); inception: x / 127.5 - 1.
   */
  private static final float[] TORCH = {
    (1f - 0.485f) / 0.229f,
    (10f / 255f - 0.485f) / 0.229f,
    (128f / 255f - 0.456f) / 0.224f,
    (20f / 255f - 0.456f) / 0.224f,
    (0f - 0.406f) / 0.225f,
    (30f / 255f - 0.406f) / 0.225f
  };

  private static final Map<Architecture, float[]> EXPECTED =
      Map.ofEntries(
          Map.entry(
              Architecture.VGG16,
              new float[] {
                0f - 103.939f,
                30f - 103.939f,
                128f - 116.779f,
                20f - 116.779f,
                255f - 123.68f,
                10f - 123.68f
              }),
          Map.entry(
              Architecture.RESNET50,
              new float[] {
                0f - 103.939f,
                30f - 103.939f,
                128f - 116.779f,
                20f - 116.779f,
                255f - 123.68f,
                10f - 123.68f
              }),
          Map.entry(
              Architecture.INCEPTION_V3,
              new float[] {
                1f, 10f / 127.5f - 1f, 128f / 127.5f - 1f, 20f / 127.5f - 1f, -1f, 30f / 127.5f - 1f
              }),
          Map.entry(
              Architecture.MOBILENET_V2,
              new float[] {
                1f, 10f / 127.5f - 1f, 128f / 127.5f - 1f, 20f / 127.5f - 1f, -1f, 30f / 127.5f - 1f
              }),
          // Keras's EfficientNet inside the model: x / 255, minus ImageNet's RGB means, divided by
          // their standard deviations
          Map.entry(Architecture.EFFICIENTNET_B0, TORCH),
          // torchvision's and timm's ImageNet normalisation for resnet50 and convnext_tiny
          Map.entry(Architecture.RESNET50_TORCHVISION, TORCH),
          Map.entry(Architecture.CONVNEXT_TINY, TORCH),
          // torchvision's vit_b_16 and DINOv2: ImageNet mean/std as well
          Map.entry(Architecture.VIT_B16, TORCH),
          Map.entry(Architecture.DINOV2_VITS14, TORCH),
          Map.entry(Architecture.DINOV2_VITB14, TORCH),
          Map.entry(Architecture.DINOV2_VITS14_REG, TORCH),
          Map.entry(Architecture.DINOV2_VITB14_REG, TORCH));

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void eachBaseGetsItsPreprocessing(Architecture a) {
    float[] x = PIXELS.clone();
    a.preprocessing().applyInPlace(x, 1, 2);
    assertArrayEquals(EXPECTED.get(a), x, 1e-5f, a.id());
  }

  /**
   * The publishers' evaluation resize: torchvision's bilinear 256 → 224 for its ResNet50 and
   * ViT-B/16 weights; timm's bicubic at 0.875 for ConvNeXt-Tiny; DINOv2's (and Hugging Face's
   * {@code facebook/dinov2-*}) bicubic 256 → 224. The Keras bases keep the whole square, bilinear.
   */
  @ParameterizedTest
  @EnumSource(Architecture.class)
  void eachBaseGetsItsPublishersResize(Architecture a) {
    Map<String, Interpolation> publisher =
        Map.of(
            "resnet50-torchvision", Interpolation.BILINEAR,
            "vit-b16", Interpolation.BILINEAR,
            "convnext-tiny", Interpolation.BICUBIC,
            "dinov2-vits14", Interpolation.BICUBIC,
            "dinov2-vitb14", Interpolation.BICUBIC,
            "dinov2-vits14-reg", Interpolation.BICUBIC,
            "dinov2-vitb14-reg", Interpolation.BICUBIC);
    Preprocessing p = a.preprocessing();
    if (publisher.containsKey(a.id())) {
      assertEquals(0.875f, p.cropFraction(), a.id());
      assertEquals(publisher.get(a.id()), p.interpolation(), a.id());
    } else {
      assertTrue(p.defaultResize(), a.id() + ": " + p);
    }
  }

  @Test
  void theResizeIsValidatedAndShownOnlyWhenNotTheDefault() {
    Preprocessing timm = Preprocessing.torch().withCrop(0.875f, Interpolation.BICUBIC);
    assertTrue(timm.toString().endsWith(", crop=0.875, BICUBIC)"), timm.toString());
    assertEquals(-1, Preprocessing.torch().toString().indexOf("crop"), "cache keys unchanged");
    assertTrue(
        !timm.equals(Preprocessing.torch())
            && !timm.equals(timm.withCrop(0.9f, Interpolation.BICUBIC)));
    for (float bad : new float[] {0f, -0.5f, 1.01f, Float.NaN}) {
      GraftException e =
          assertThrows(
              GraftException.class,
              () -> Preprocessing.torch().withCrop(bad, Interpolation.BILINEAR));
      assertTrue(e.getMessage().contains("crop fraction must be in (0, 1]"), e.getMessage());
    }
    assertEquals(Interpolation.BICUBIC, Interpolation.parse(" Bicubic "));
    GraftException e = assertThrows(GraftException.class, () -> Interpolation.parse("lanczos"));
    assertTrue(e.getMessage().contains("'lanczos'"), e.getMessage());
  }

  @Test
  void unitAndNone() {
    float[] x = PIXELS.clone();
    Preprocessing.unit().applyInPlace(x, 2, 1);
    assertArrayEquals(
        new float[] {1f, 10f / 255f, 128f / 255f, 20f / 255f, 0f, 30f / 255f}, x, 1e-6f);
    float[] y = PIXELS.clone();
    Preprocessing.none().applyInPlace(y, 1, 2);
    assertArrayEquals(PIXELS, y);
  }

  @Test
  void namedAndErrors() {
    assertEquals(Preprocessing.caffe(), Preprocessing.named("CAFFE"));
    assertEquals(Preprocessing.inception(), Preprocessing.named("tf"));
    assertEquals(Preprocessing.torch(), Preprocessing.named("torch"));
    GraftException e = assertThrows(GraftException.class, () -> Preprocessing.named("imagenet"));
    assertTrue(e.getMessage().contains("'imagenet'"), e.getMessage());
    GraftException size =
        assertThrows(
            GraftException.class, () -> Preprocessing.unit().applyInPlace(new float[5], 1, 2));
    assertTrue(size.getMessage().contains("got 5"), size.getMessage());
  }
}
