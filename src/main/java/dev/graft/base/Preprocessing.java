package dev.graft.base;

import dev.graft.error.GraftException;
import java.util.Arrays;
import java.util.Locale;

/**
 * How a base wants its pixels, declared once per weight set and applied by Graft (never by the
 * user) in training, evaluation and prediction alike.
 *
 * <p>Input pixels are RGB values in [0, 255]; each output value is {@code (pixel * scale - mean[c])
 * / std[c]}, with the channels reordered to {@link #channelOrder()} first, so {@code mean} and
 * {@code std} are given in output channel order.
 *
 * <pre>{@code
 * Preprocessing.caffe();      // VGG16, ResNet50: BGR, ImageNet means subtracted, no scaling
 * Preprocessing.inception();  // InceptionV3, MobileNetV2: RGB scaled to [-1, 1]
 * Preprocessing.torch();      // EfficientNetB0: RGB to [0, 1], ImageNet mean and std
 * Preprocessing.unit();       // RGB scaled to [0, 1], the default for a base of your own
 * Preprocessing.torch().withCrop(0.875f, Interpolation.BICUBIC);  // timm's ConvNeXt evaluation
 * }</pre>
 *
 * <p>The publisher's evaluation resize travels with the pixel arithmetic: {@link #cropFraction()}
 * (timm's {@code crop_pct}) and {@link #interpolation()}. With a fraction {@code f < 1} a
 * centre-cropped image is resized so that its short side is {@code floor(size / f)} and the centre
 * {@code size} square is kept, exactly as torchvision's {@code Resize(int(size / f))} then {@code
 * CenterCrop(size)} (ImageNet evaluation: 256 then 224 for {@code f = 0.875}). A fraction of 1
 * keeps the whole centred square (what every model file written before these fields meant).
 *
 * @param name short name used on the command line and in model files
 * @param channelOrder channel order of the output tensor
 * @param scale factor applied to the raw [0, 255] value before the mean is subtracted
 * @param mean per-channel mean subtracted after scaling, in output channel order
 * @param std per-channel divisor applied last, in output channel order
 * @param cropFraction the fraction of the resized short side the centre crop keeps, in (0, 1]; 1
 *     keeps the whole centred square. Applies to {@code ResizeMode.CENTER_CROP} only.
 * @param interpolation the resize filter
 */
public record Preprocessing(
    String name,
    ChannelOrder channelOrder,
    float scale,
    float[] mean,
    float[] std,
    float cropFraction,
    Interpolation interpolation) {

  /** ImageNet channel means in BGR order, as Caffe (and Keras's "caffe" mode) subtract them. */
  private static final float[] IMAGENET_MEAN_BGR = {103.939f, 116.779f, 123.68f};

  /** ImageNet channel means of [0, 1] pixels, RGB (torchvision's, Keras's "torch" mode). */
  private static final float[] IMAGENET_MEAN_RGB_UNIT = {0.485f, 0.456f, 0.406f};

  /** ImageNet channel standard deviations of [0, 1] pixels, RGB. */
  private static final float[] IMAGENET_STD_RGB_UNIT = {0.229f, 0.224f, 0.225f};

  private static final float[] ZEROS = {0f, 0f, 0f};
  private static final float[] ONES = {1f, 1f, 1f};

  public Preprocessing {
    if (mean.length != 3 || std.length != 3) {
      throw new GraftException(
          "preprocessing '"
              + name
              + "' needs 3 means and 3 stds, got "
              + mean.length
              + " and "
              + std.length);
    }
    if (!(cropFraction > 0f && cropFraction <= 1f)) {
      throw new GraftException(
          "preprocessing '" + name + "': crop fraction must be in (0, 1], got " + cropFraction);
    }
    if (interpolation == null) {
      throw new GraftException("preprocessing '" + name + "' needs an interpolation");
    }
    mean = mean.clone();
    std = std.clone();
  }

  /**
   * Pixel arithmetic only: the whole centred square ({@link #cropFraction()} 1), {@link
   * Interpolation#BILINEAR}.
   */
  public Preprocessing(
      String name, ChannelOrder channelOrder, float scale, float[] mean, float[] std) {
    this(name, channelOrder, scale, mean, std, 1f, Interpolation.BILINEAR);
  }

  /**
   * The same arithmetic evaluated the publisher's way: the short side resized to {@code size /
   * cropFraction} and the centre {@code size} square kept, with {@code interpolation}.
   *
   * @param cropFraction timm's {@code crop_pct}, in (0, 1]: 0.875 for torchvision's 256 → 224
   * @throws GraftException when the fraction is outside (0, 1]
   */
  public Preprocessing withCrop(float cropFraction, Interpolation interpolation) {
    return new Preprocessing(name, channelOrder, scale, mean, std, cropFraction, interpolation);
  }

  /**
   * The name as run settings and activation-cache keys record it: {@link #name()}, followed by the
   * crop and interpolation when they are not the default (so {@code --preprocess torch} on a base
   * whose own "torch" preprocessing crops 0.875 never shares cached activations or a checkpoint
   * with it; the default spells as before, so existing caches and checkpoints still match).
   */
  public String keyName() {
    return defaultResize() ? name : name + "/crop=" + cropFraction + "/" + interpolation;
  }

  /** Whether the resize is the default one: the whole centred square, bilinear. */
  public boolean defaultResize() {
    return cropFraction == 1f && interpolation == Interpolation.BILINEAR;
  }

  /** VGG16 and ResNet50: RGB to BGR, then the ImageNet channel means subtracted; no scaling. */
  public static Preprocessing caffe() {
    return new Preprocessing("caffe", ChannelOrder.BGR, 1f, IMAGENET_MEAN_BGR, ONES);
  }

  /** InceptionV3 and MobileNetV2 (Keras "tf" mode): RGB scaled to [-1, 1]. */
  public static Preprocessing inception() {
    return new Preprocessing("inception", ChannelOrder.RGB, 1f / 127.5f, ONES, ONES);
  }

  /**
   * Keras's "torch" mode: RGB scaled to [0, 1], then ImageNet's channel means subtracted and
   * divided by their standard deviations. EfficientNet: what Keras's model does inside with its
   * {@code Rescaling} and {@code Normalization} layers.
   */
  public static Preprocessing torch() {
    return new Preprocessing(
        "torch", ChannelOrder.RGB, 1f / 255f, IMAGENET_MEAN_RGB_UNIT, IMAGENET_STD_RGB_UNIT);
  }

  /** RGB scaled to [0, 1]: the default for a base brought from a file. */
  public static Preprocessing unit() {
    return new Preprocessing("unit", ChannelOrder.RGB, 1f / 255f, ZEROS, ONES);
  }

  /** RGB left in [0, 255]. */
  public static Preprocessing none() {
    return new Preprocessing("none", ChannelOrder.RGB, 1f, ZEROS, ONES);
  }

  /**
   * The preprocessing called {@code name} on the command line: unit, caffe, inception or none.
   *
   * @throws GraftException naming the value when it is none of those
   */
  public static Preprocessing named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "unit" -> unit();
      case "caffe" -> caffe();
      case "inception", "tf" -> inception();
      case "torch" -> torch();
      case "none" -> none();
      default ->
          throw new GraftException(
              "unknown preprocessing: '"
                  + name
                  + "' (expected unit, caffe, inception, torch or none)");
    };
  }

  /**
   * Preprocesses one image in place.
   *
   * @param chw RGB pixels in [0, 255], channel-major ({@code [3][height][width]} flattened); on
   *     return it holds the base's input in {@link #channelOrder()}
   * @param height image height in pixels
   * @param width image width in pixels
   */
  public void applyInPlace(float[] chw, int height, int width) {
    int plane = height * width;
    if (chw.length != 3 * plane) {
      throw new GraftException(
          "expected 3x" + height + "x" + width + " = " + 3 * plane + " values, got " + chw.length);
    }
    if (channelOrder == ChannelOrder.BGR) {
      // Swap the R and B planes; G stays.
      for (int i = 0; i < plane; i++) {
        float r = chw[i];
        chw[i] = chw[2 * plane + i];
        chw[2 * plane + i] = r;
      }
    }
    for (int c = 0; c < 3; c++) {
      float m = mean[c];
      float inv = 1f / std[c];
      int offset = c * plane;
      for (int i = offset; i < offset + plane; i++) {
        chw[i] = (chw[i] * scale - m) * inv;
      }
    }
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Preprocessing p
        && name.equals(p.name)
        && channelOrder == p.channelOrder
        && Float.compare(scale, p.scale) == 0
        && Arrays.equals(mean, p.mean)
        && Arrays.equals(std, p.std)
        && Float.compare(cropFraction, p.cropFraction) == 0
        && interpolation == p.interpolation;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * name.hashCode() + channelOrder.hashCode()) + Arrays.hashCode(mean))
        + interpolation.ordinal();
  }

  /**
   * The form in feature-cache keys and logs. The resize appears only when it is not the default, so
   * the keys of caches written before it existed stay valid.
   */
  @Override
  public String toString() {
    return name
        + "("
        + channelOrder
        + ", scale="
        + scale
        + ", mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + (defaultResize() ? "" : ", crop=" + cropFraction + ", " + interpolation)
        + ")";
  }
}
