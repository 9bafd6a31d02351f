package dev.graft.data;

import dev.graft.base.Preprocessing;
import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a decoded image into exactly what a base consumes: a square of {@code size} pixels (resized
 * with an antialiasing filter, cropped, stretched or letterboxed per {@link ResizeMode}), then the
 * base's {@link Preprocessing} (channel order, scale, mean, std). Training, evaluation and
 * prediction all go through this one record, so the pixels a model sees never depend on where the
 * image came from.
 *
 * <pre>{@code
 * ImageTransform t = new ImageTransform(224, ResizeMode.CENTER_CROP, Preprocessing.caffe());
 * float[] chw = t.toChw(ImageDecoder.read(Path.of("rose.jpg")));   // 3 x 224 x 224, BGR, mean-free
 * INDArray batch = t.toBatch(List.of(img1, img2));                 // [2, 3, 224, 224]
 * }</pre>
 *
 * <p>Thread-safe (immutable).
 *
 * @param size side of the square output in pixels
 * @param resize how a non-square image reaches the square
 * @param preprocessing the base's pixel preprocessing
 */
public record ImageTransform(int size, ResizeMode resize, Preprocessing preprocessing) {

  /** Validates the size (at least 1 pixel). */
  public ImageTransform {
    if (size < 1) {
      throw new GraftException("image size must be at least 1 pixel, got " + size);
    }
    Objects.requireNonNull(resize, "resize");
    Objects.requireNonNull(preprocessing, "preprocessing");
  }

  /** A centre-cropping transform. */
  public static ImageTransform of(int size, Preprocessing preprocessing) {
    return new ImageTransform(size, ResizeMode.CENTER_CROP, preprocessing);
  }

  /** Number of floats in one transformed image: {@code 3 * size * size}. */
  public int length() {
    return 3 * size * size;
  }

  /**
   * Decodes a file ({@link ImageDecoder#read(Path)}) and transforms it without augmentation.
   *
   * @throws IOException if the file cannot be read or decoded
   */
  public float[] toChw(Path file) throws IOException {
    return toChw(ImageDecoder.read(file));
  }

  /**
   * Transforms an image without augmentation (evaluation and prediction).
   *
   * @param img any {@link BufferedImage}; other types than {@code TYPE_INT_RGB} are converted by
   *     {@link ImageDecoder#toRgb(BufferedImage)}
   * @return preprocessed values, channel-major, {@code 3 x size x size}
   */
  public float[] toChw(BufferedImage img) {
    return toChw(img, Augmentation.none(), null);
  }

  /**
   * Transforms an image with augmentation (training).
   *
   * @param rnd source of the random draws; may be null when {@code augmentation} is not {@link
   *     Augmentation#enabled()}
   */
  public float[] toChw(BufferedImage img, Augmentation augmentation, RandomGenerator rnd) {
    float[] chw = toRgbChw(img, augmentation, rnd);
    preprocessing.applyInPlace(chw, size, size);
    return chw;
  }

  /**
   * The resized (and augmented) RGB pixels before preprocessing: values in [0, 255], channel-major,
   * R then G then B.
   */
  public float[] toRgbChw(BufferedImage img, Augmentation augmentation, RandomGenerator rnd) {
    return toRgbChw(img, augmentation, rnd, new float[length()]);
  }

  /**
   * Transforms into {@code dest} at {@code offset} (what {@link ImageBatches} uses to fill a batch
   * without a per-image array).
   */
  void toChwInto(
      BufferedImage img, Augmentation augmentation, RandomGenerator rnd, float[] dest, int offset) {
    float[] scratch = SCRATCH.get();
    if (scratch.length != length()) {
      scratch = new float[length()];
      SCRATCH.set(scratch);
    }
    float[] chw = toRgbChw(img, augmentation, rnd, scratch);
    preprocessing.applyInPlace(chw, size, size);
    System.arraycopy(chw, 0, dest, offset, chw.length);
  }

  /** Per-thread output array of the last size used. */
  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

  /** Resized (and augmented) RGB into {@code out}; returns out. */
  private float[] toRgbChw(
      BufferedImage img, Augmentation augmentation, RandomGenerator rnd, float[] out) {
    BufferedImage rgb = ImageDecoder.toRgb(img);
    int w = rgb.getWidth();
    int h = rgb.getHeight();
    int[] px = ((DataBufferInt) rgb.getRaster().getDataBuffer()).getData();
    if (augmentation.enabled() && rnd == null) {
      throw new GraftException("augmentation " + augmentation + " needs a random generator");
    }
    double[] region = null;
    if (augmentation.minCropArea() < 1) {
      region = randomCrop(w, h, augmentation.minCropArea(), rnd);
    }
    if (region == null) {
      region = region(w, h);
    }
    float[] chw = out;
    if (resize instanceof ResizeMode.Pad pad) {
      letterbox(px, w, h, region, pad, chw);
    } else {
      Resampler.resample(px, w, h, region, size, size, preprocessing.interpolation(), chw);
    }
    if (augmentation.horizontalFlip() && rnd.nextBoolean()) {
      Resampler.flipHorizontal(chw, size, size);
    }
    if (augmentation.maxRotationDegrees() > 0) {
      double max = augmentation.maxRotationDegrees();
      double degrees = rnd.nextDouble(-max, max);
      float[] rotated = Resampler.rotate(chw, size, size, degrees);
      System.arraycopy(rotated, 0, chw, 0, chw.length);
    }
    if (augmentation.brightness() > 0 || augmentation.contrast() > 0) {
      double b = augmentation.brightness();
      double c = augmentation.contrast();
      float brightness = (float) (b > 0 ? rnd.nextDouble(1 - b, 1 + b) : 1);
      float contrast = (float) (c > 0 ? rnd.nextDouble(1 - c, 1 + c) : 1);
      jitter(chw, brightness, contrast);
    }
    return chw;
  }

  /**
   * Transforms several images into one batch without augmentation.
   *
   * @return a float array of shape {@code [N, 3, size, size]}
   */
  public INDArray toBatch(List<BufferedImage> imgs) {
    int n = imgs.size();
    int len = length();
    float[] all = new float[n * len];
    for (int i = 0; i < n; i++) {
      System.arraycopy(toChw(imgs.get(i)), 0, all, i * len, len);
    }
    return floats(all, n, 3, size, size);
  }

  /**
   * A float array of the given shape (C order) holding {@code data}, outside any workspace. The
   * {@code Nd4j.create(float[], ...)} factories copy element by element (about 10x slower for a 224
   * px batch); a detached buffer is copied in one block.
   */
  static INDArray floats(float[] data, long... shape) {
    return Nd4j.create(Nd4j.createBufferDetached(data), shape);
  }

  /**
   * Fits {@code region} inside the square less the margin, centred, aspect kept; the border is the
   * fill colour or the placed image's edge pixels extended.
   */
  private void letterbox(int[] px, int w, int h, double[] region, ResizeMode.Pad pad, float[] out) {
    double inner = size * (1 - 2 * pad.margin());
    double scale = inner / Math.max(region[2], region[3]);
    int ow = (int) Math.max(1, Math.min(size, Math.round(region[2] * scale)));
    int oh = (int) Math.max(1, Math.min(size, Math.round(region[3] * scale)));
    int ox = (size - ow) / 2;
    int oy = (size - oh) / 2;
    float[] placed = Resampler.resample(px, w, h, region, ow, oh, preprocessing.interpolation());
    int plane = size * size;
    int rgb = pad.fill().rgb();
    float[] colour = {rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF};
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < size; y++) {
        int sy = y - oy;
        boolean rowInside = sy >= 0 && sy < oh;
        int cy = Math.max(0, Math.min(oh - 1, sy));
        for (int x = 0; x < size; x++) {
          int sx = x - ox;
          float v;
          if (rowInside && sx >= 0 && sx < ow) {
            v = placed[c * ow * oh + sy * ow + sx];
          } else if (pad.fill().edge()) {
            v = placed[c * ow * oh + cy * ow + Math.max(0, Math.min(ow - 1, sx))];
          } else {
            v = colour[c];
          }
          out[c * plane + y * size + x] = v;
        }
      }
    }
  }

  /** Source region {x, y, width, height} for the resize mode. */
  private double[] region(int w, int h) {
    if (!(resize instanceof ResizeMode.CenterCrop)) {
      return new double[] {0, 0, w, h};
    }
    if (preprocessing.cropFraction() < 1f) {
      return publisherCrop(w, h, preprocessing.cropFraction());
    }
    if (w == h) {
      return new double[] {0, 0, w, h};
    }
    double side = Math.min(w, h);
    return new double[] {(w - side) / 2.0, (h - side) / 2.0, side, side};
  }

  /**
   * torchvision's {@code Resize(floor(size / f))} then {@code CenterCrop(size)}, as the region of
   * the source those output pixels sample: the short side resized to {@code floor(size / f)}, the
   * long side to {@code floor(that * long / short)}, the crop offset {@code round((resized - size)
   * / 2)} with Python's round half to even. Resampling that region to {@code size} uses the same
   * taps as resizing the whole image and cropping.
   */
  private double[] publisherCrop(int w, int h, double f) {
    long shortSide = (long) Math.floor(size / f);
    long rw;
    long rh;
    if (w <= h) {
      rw = shortSide;
      rh = shortSide * h / w;
    } else {
      rh = shortSide;
      rw = shortSide * w / h;
    }
    double left = Math.rint((rw - size) / 2.0);
    double top = Math.rint((rh - size) / 2.0);
    double sx = (double) w / rw;
    double sy = (double) h / rh;
    return new double[] {left * sx, top * sy, size * sx, size * sy};
  }

  /** A random region of {@code [minArea, 1]} of the image, aspect 3:4 to 4:3, or null. */
  private static double[] randomCrop(int w, int h, double minArea, RandomGenerator rnd) {
    double area = (double) w * h;
    double logLo = Math.log(3.0 / 4.0);
    double logHi = Math.log(4.0 / 3.0);
    for (int attempt = 0; attempt < 10; attempt++) {
      double target = area * rnd.nextDouble(minArea, 1.0 + 1e-12);
      double ratio = Math.exp(rnd.nextDouble(logLo, logHi));
      double cw = Math.sqrt(target * ratio);
      double ch = Math.sqrt(target / ratio);
      if (cw <= w && ch <= h) {
        double x = rnd.nextDouble() * (w - cw);
        double y = rnd.nextDouble() * (h - ch);
        return new double[] {x, y, cw, ch};
      }
    }
    return null;
  }

  private static void jitter(float[] chw, float brightness, float contrast) {
    int plane = chw.length / 3;
    double sum = 0;
    for (int i = 0; i < plane; i++) {
      sum += 0.299 * chw[i] + 0.587 * chw[plane + i] + 0.114 * chw[2 * plane + i];
    }
    float mean = (float) (sum / plane) * brightness;
    for (int i = 0; i < chw.length; i++) {
      float v = (chw[i] * brightness - mean) * contrast + mean;
      chw[i] = v < 0 ? 0 : Math.min(v, 255f);
    }
  }
}
