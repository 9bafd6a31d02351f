package dev.graft.data;

import dev.graft.base.Interpolation;

/**
 * Separable antialiased resampling with a triangle (bilinear) or Keys cubic (bicubic) filter whose
 * support widens with the downscaling factor, the way PIL's {@code Image.resize(..., BILINEAR |
 * BICUBIC)} (and so torchvision and timm) resizes: every source pixel in the footprint contributes,
 * so downscaling does not alias. The taps (footprint, rounding, normalisation) are PIL's {@code
 * precompute_coeffs}; the arithmetic stays in float where PIL rounds to 8 bits.
 */
final class Resampler {

  private Resampler() {}

  /** Filter taps for one axis. */
  private record Taps(int[] start, int[] count, float[] weights, int width) {}

  /** PIL's cubic filter ({@code a = -0.5}), support 2. */
  private static double cubic(double x) {
    double a = -0.5;
    x = Math.abs(x);
    if (x < 1) {
      return ((a + 2) * x - (a + 3)) * x * x + 1;
    }
    return x < 2 ? (((x - 5) * x + 8) * x - 4) * a : 0;
  }

  private static Taps taps(int inSize, double in0, double inLen, int outSize, Interpolation f) {
    boolean cubic = f == Interpolation.BICUBIC;
    double scale = inLen / outSize;
    double filterScale = Math.max(scale, 1.0);
    double support = filterScale * (cubic ? 2 : 1);
    int width = (int) Math.ceil(support) * 2 + 1;
    int[] start = new int[outSize];
    int[] count = new int[outSize];
    float[] weights = new float[outSize * width];
    double[] w = new double[width];
    for (int i = 0; i < outSize; i++) {
      double center = in0 + (i + 0.5) * scale;
      int lo = Math.max((int) Math.floor(center - support + 0.5), 0);
      int hi = Math.min((int) Math.floor(center + support + 0.5), inSize);
      if (hi - lo > width) {
        hi = lo + width;
      }
      double sum = 0;
      for (int x = lo; x < hi; x++) {
        double t = Math.abs((x - center + 0.5) / filterScale);
        double v = cubic ? cubic(t) : t < 1 ? 1 - t : 0;
        w[x - lo] = v;
        sum += v;
      }
      if (sum <= 0) {
        // The footprint lies outside the image (a crop reaching past the edge): nearest pixel.
        lo = Math.min(Math.max((int) Math.floor(center), 0), inSize - 1);
        hi = lo + 1;
        w[0] = 1;
        sum = 1;
      }
      start[i] = lo;
      count[i] = hi - lo;
      for (int j = 0; j < hi - lo; j++) {
        weights[i * width + j] = (float) (w[j] / sum);
      }
    }
    return new Taps(start, count, weights, width);
  }

  /**
   * Resamples the region {@code [x0, x0 + cw) x [y0, y0 + ch)} of a packed RGB image to {@code ow x
   * oh}.
   *
   * @return RGB values in [0, 255], channel-major
   */
  static float[] resample(
      int[] src, int sw, int sh, double[] region, int ow, int oh, Interpolation filter) {
    float[] out = new float[3 * ow * oh];
    resample(src, sw, sh, region, ow, oh, filter, out);
    return out;
  }

  /** Per-thread scratch rows for the horizontal pass, grown as needed. */
  private static final ThreadLocal<float[][]> SCRATCH =
      ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[0]});

  /**
   * As {@link #resample(int[], int, int, double[], int, int, Interpolation)}, into out; {@code
   * region} is {x, y, width, height}.
   */
  static void resample(
      int[] src,
      int sw,
      int sh,
      double[] region,
      int ow,
      int oh,
      Interpolation filter,
      float[] out) {
    Taps tx = taps(sw, region[0], region[2], ow, filter);
    Taps ty = taps(sh, region[1], region[3], oh, filter);
    int rowLo = Integer.MAX_VALUE;
    int rowHi = 0;
    for (int i = 0; i < oh; i++) {
      rowLo = Math.min(rowLo, ty.start[i]);
      rowHi = Math.max(rowHi, ty.start[i] + ty.count[i]);
    }
    int rows = rowHi - rowLo;
    // Horizontal pass over the rows the vertical pass needs.
    float[][] scratch = SCRATCH.get();
    if (scratch[0].length < rows * ow) {
      for (int c = 0; c < 3; c++) {
        scratch[c] = new float[rows * ow];
      }
    }
    float[] tr = scratch[0];
    float[] tg = scratch[1];
    float[] tb = scratch[2];
    for (int y = 0; y < rows; y++) {
      int rowBase = (rowLo + y) * sw;
      int tBase = y * ow;
      for (int ox = 0; ox < ow; ox++) {
        int s = rowBase + tx.start[ox];
        int n = tx.count[ox];
        int wBase = ox * tx.width;
        float r = 0;
        float g = 0;
        float b = 0;
        for (int j = 0; j < n; j++) {
          int p = src[s + j];
          float wt = tx.weights[wBase + j];
          r += wt * ((p >> 16) & 0xFF);
          g += wt * ((p >> 8) & 0xFF);
          b += wt * (p & 0xFF);
        }
        tr[tBase + ox] = r;
        tg[tBase + ox] = g;
        tb[tBase + ox] = b;
      }
    }
    // Vertical pass.
    int plane = ow * oh;
    java.util.Arrays.fill(out, 0, 3 * plane, 0f);
    for (int oy = 0; oy < oh; oy++) {
      int s = ty.start[oy] - rowLo;
      int n = ty.count[oy];
      int wBase = oy * ty.width;
      int oBase = oy * ow;
      for (int j = 0; j < n; j++) {
        float wt = ty.weights[wBase + j];
        int tBase = (s + j) * ow;
        for (int ox = 0; ox < ow; ox++) {
          out[oBase + ox] += wt * tr[tBase + ox];
          out[plane + oBase + ox] += wt * tg[tBase + ox];
          out[2 * plane + oBase + ox] += wt * tb[tBase + ox];
        }
      }
    }
    if (filter == Interpolation.BICUBIC) {
      // The cubic's negative lobes overshoot at edges; PIL's 8-bit output is clipped.
      for (int i = 0; i < 3 * plane; i++) {
        float v = out[i];
        out[i] = v < 0 ? 0 : Math.min(v, 255f);
      }
    }
  }

  /** Mirrors a channel-major image left to right, in place. */
  static void flipHorizontal(float[] chw, int h, int w) {
    for (int row = 0; row < 3 * h; row++) {
      int a = row * w;
      int b = a + w - 1;
      while (a < b) {
        float t = chw[a];
        chw[a++] = chw[b];
        chw[b--] = t;
      }
    }
  }

  /**
   * Rotates a channel-major image about its centre by {@code degrees} (counter-clockwise), zoomed
   * in by {@code |cos| + |sin|} so that every output pixel samples inside the source.
   */
  static float[] rotate(float[] chw, int h, int w, double degrees) {
    double a = Math.toRadians(degrees);
    double cos = Math.cos(a);
    double sin = Math.sin(a);
    double zoom = Math.abs(cos) + Math.abs(sin);
    double cx = w / 2.0;
    double cy = h / 2.0;
    int plane = h * w;
    float[] out = new float[chw.length];
    for (int y = 0; y < h; y++) {
      double dy = y + 0.5 - cy;
      for (int x = 0; x < w; x++) {
        double dx = x + 0.5 - cx;
        double sx = (cos * dx - sin * dy) / zoom + cx - 0.5;
        double sy = (sin * dx + cos * dy) / zoom + cy - 0.5;
        sx = Math.min(Math.max(sx, 0), w - 1);
        sy = Math.min(Math.max(sy, 0), h - 1);
        int x0 = (int) sx;
        int y0 = (int) sy;
        int x1 = Math.min(x0 + 1, w - 1);
        int y1 = Math.min(y0 + 1, h - 1);
        float fx = (float) (sx - x0);
        float fy = (float) (sy - y0);
        for (int c = 0; c < 3; c++) {
          int o = c * plane;
          float top = chw[o + y0 * w + x0] * (1 - fx) + chw[o + y0 * w + x1] * fx;
          float bottom = chw[o + y1 * w + x0] * (1 - fx) + chw[o + y1 * w + x1] * fx;
          out[o + y * w + x] = top * (1 - fy) + bottom * fy;
        }
      }
    }
    return out;
  }
}
