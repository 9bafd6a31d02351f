package dev.graft.data;

import dev.graft.error.GraftException;

/**
 * Random changes applied to training images (never to validation, evaluation or prediction), so
 * that a small dataset looks larger to the network. Every draw comes from a seeded generator:
 * {@link ImageBatches} derives one per image from its seed, the epoch and the image's position, so
 * a run is reproducible whatever the thread timing.
 *
 * <p>Applied in this order: random resized crop (a region of {@code minCropArea} to all of the
 * image's area, aspect ratio 3:4 to 4:3, stretched to the square input; it replaces the {@link
 * ResizeMode} region), horizontal flip (half of the images), rotation by up to {@code
 * maxRotationDegrees} either way (zoomed in just enough that no empty corners appear), brightness
 * scaled by a factor in {@code [1 - brightness, 1 + brightness]}, contrast around the image's mean
 * by a factor in {@code [1 - contrast, 1 + contrast]}.
 *
 * <pre>{@code
 * Augmentation.none();                               // the default
 * Augmentation.standard();                           // flip, crop 60-100 %, 10 degrees, 0.2, 0.2
 * Augmentation.none().withFlip(true).withRotation(5);
 * }</pre>
 *
 * <p>Off by default: with augmentation the base's outputs differ every epoch, so the frozen-base
 * and feature-extraction strategies can no longer cache them.
 *
 * @param horizontalFlip mirror half of the images left to right
 * @param minCropArea smallest fraction of the image's area a random crop keeps, in (0, 1]; 1
 *     disables random cropping
 * @param maxRotationDegrees largest rotation either way, in [0, 45]
 * @param brightness brightness jitter, in [0, 1)
 * @param contrast contrast jitter, in [0, 1)
 */
public record Augmentation(
    boolean horizontalFlip,
    double minCropArea,
    double maxRotationDegrees,
    double brightness,
    double contrast) {

  /** Validates the ranges; the message names the bad value. */
  public Augmentation {
    if (!(minCropArea > 0 && minCropArea <= 1)) {
      throw new GraftException("augmentation minCropArea must be in (0, 1], got " + minCropArea);
    }
    if (!(maxRotationDegrees >= 0 && maxRotationDegrees <= 45)) {
      throw new GraftException(
          "augmentation maxRotationDegrees must be in [0, 45], got " + maxRotationDegrees);
    }
    if (!(brightness >= 0 && brightness < 1)) {
      throw new GraftException("augmentation brightness must be in [0, 1), got " + brightness);
    }
    if (!(contrast >= 0 && contrast < 1)) {
      throw new GraftException("augmentation contrast must be in [0, 1), got " + contrast);
    }
  }

  /** No augmentation: every epoch sees the same pixels. */
  public static Augmentation none() {
    return new Augmentation(false, 1, 0, 0, 0);
  }

  /**
   * A moderate default for fine-tuning on photos: horizontal flip, random crops of 60 % to 100 % of
   * the area, rotation up to 10 degrees, brightness and contrast jitter of 0.2.
   */
  public static Augmentation standard() {
    return new Augmentation(true, 0.6, 10, 0.2, 0.2);
  }

  /**
   * In words, for reports and settings: {@code none}, or e.g. {@code horizontal flip, random crop
   * 60-100 % of the area, rotation up to 10 degrees, brightness 0.2, contrast 0.2}.
   */
  public String describe() {
    if (!enabled()) {
      return "none";
    }
    java.util.List<String> parts = new java.util.ArrayList<>();
    if (horizontalFlip) {
      parts.add("horizontal flip");
    }
    if (minCropArea < 1) {
      parts.add(
          String.format(
              java.util.Locale.ROOT, "random crop %.0f-100 %% of the area", 100 * minCropArea));
    }
    if (maxRotationDegrees > 0) {
      parts.add(
          String.format(java.util.Locale.ROOT, "rotation up to %.3g degrees", maxRotationDegrees));
    }
    if (brightness > 0) {
      parts.add(String.format(java.util.Locale.ROOT, "brightness %.3g", brightness));
    }
    if (contrast > 0) {
      parts.add(String.format(java.util.Locale.ROOT, "contrast %.3g", contrast));
    }
    return String.join(", ", parts);
  }

  /** Whether any change is applied at all. */
  public boolean enabled() {
    return horizontalFlip
        || minCropArea < 1
        || maxRotationDegrees > 0
        || brightness > 0
        || contrast > 0;
  }

  /** This augmentation with horizontal flipping switched on or off. */
  public Augmentation withFlip(boolean flip) {
    return new Augmentation(flip, minCropArea, maxRotationDegrees, brightness, contrast);
  }

  /** This augmentation with random resized crops down to {@code minArea} of the image. */
  public Augmentation withCrop(double minArea) {
    return new Augmentation(horizontalFlip, minArea, maxRotationDegrees, brightness, contrast);
  }

  /** This augmentation with rotations up to {@code degrees} either way. */
  public Augmentation withRotation(double degrees) {
    return new Augmentation(horizontalFlip, minCropArea, degrees, brightness, contrast);
  }

  /** This augmentation with brightness and contrast jitter. */
  public Augmentation withColor(double brightness, double contrast) {
    return new Augmentation(horizontalFlip, minCropArea, maxRotationDegrees, brightness, contrast);
  }
}
