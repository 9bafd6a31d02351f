package dev.graft.base;

import dev.graft.error.GraftException;
import java.util.Locale;

/**
 * The filter that resizes an image to a base's input, as the publisher's evaluation pipeline uses
 * it. Both filters are antialiased the way PIL's {@code Image.resize} (and so torchvision's and
 * timm's transforms) applies them: the filter widens with the downscaling factor, so every source
 * pixel in the footprint contributes.
 */
public enum Interpolation {
  /**
   * Triangle filter, support 1 (PIL's {@code BILINEAR}): torchvision's default, Graft's default.
   */
  BILINEAR,
  /**
   * Keys cubic filter with {@code a = -0.5}, support 2 (PIL's {@code BICUBIC}), the result clipped
   * to [0, 255] as PIL's 8-bit output is: timm's and DINOv2's evaluation.
   */
  BICUBIC;

  /**
   * The interpolation called {@code name}: {@code bilinear} or {@code bicubic}, any case.
   *
   * @throws GraftException naming the value when it is neither
   */
  public static Interpolation parse(String name) {
    String v = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "bilinear" -> BILINEAR;
      case "bicubic" -> BICUBIC;
      default ->
          throw new GraftException(
              "interpolation: expected bilinear or bicubic, got '"
                  + (v.length() > 40 ? v.substring(0, 40) + "..." : v)
                  + "'");
    };
  }
}
