package dev.graft.report;

import dev.graft.data.ImageDecoder;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Small PNG copies of images, as data URIs, for the report's galleries. */
final class Thumbnails {
  private static final Logger log = LoggerFactory.getLogger(Thumbnails.class);

  private Thumbnails() {}

  /**
   * The image at {@code file} scaled to fit {@code box} pixels (aspect kept; small images are
   * scaled up), or null when it cannot be read (logged).
   */
  static String dataUri(Path file, int box) {
    try {
      return dataUri(ImageDecoder.read(file), box);
    } catch (IOException | RuntimeException e) {
      log.warn("no thumbnail for {}: {}", file, e.getMessage());
      return null;
    }
  }

  /**
   * {@code img} with {@code heat} ([0, 1], any resolution, stretched bilinearly over the image)
   * blended on top, blue through red, hotter more opaque.
   */
  static BufferedImage overlay(BufferedImage img, float[][] heat) {
    int w = img.getWidth();
    int h = img.getHeight();
    int hh = heat.length;
    int hw = heat[0].length;
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      double fy = Math.max(0, Math.min(hh - 1, (y + 0.5) * hh / h - 0.5));
      int y0 = (int) fy;
      int y1 = Math.min(hh - 1, y0 + 1);
      double ty = fy - y0;
      for (int x = 0; x < w; x++) {
        double fx = Math.max(0, Math.min(hw - 1, (x + 0.5) * hw / w - 0.5));
        int x0 = (int) fx;
        int x1 = Math.min(hw - 1, x0 + 1);
        double tx = fx - x0;
        double v =
            (1 - ty) * ((1 - tx) * heat[y0][x0] + tx * heat[y0][x1])
                + ty * ((1 - tx) * heat[y1][x0] + tx * heat[y1][x1]);
        double a = 0.15 + 0.5 * v;
        int[] c = jet(v);
        int p = img.getRGB(x, y);
        int r = (int) ((1 - a) * (p >> 16 & 0xFF) + a * c[0]);
        int g = (int) ((1 - a) * (p >> 8 & 0xFF) + a * c[1]);
        int b = (int) ((1 - a) * (p & 0xFF) + a * c[2]);
        out.setRGB(x, y, r << 16 | g << 8 | b);
      }
    }
    return out;
  }

  /** Blue (0) through cyan, yellow, to red (1). */
  private static int[] jet(double v) {
    double r = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * v - 3)));
    double g = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * v - 2)));
    double b = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * v - 1)));
    return new int[] {(int) (255 * r), (int) (255 * g), (int) (255 * b)};
  }

  /** {@code img} scaled to fit {@code box} pixels, as a PNG data URI. */
  static String dataUri(BufferedImage img, int box) {
    double s = (double) box / Math.max(img.getWidth(), img.getHeight());
    int w = Math.max(1, (int) Math.round(img.getWidth() * s));
    int h = Math.max(1, (int) Math.round(img.getHeight() * s));
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION,
          s < 1
              ? RenderingHints.VALUE_INTERPOLATION_BILINEAR
              : RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
      g.drawImage(img, 0, 0, w, h, null);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ImageIO.write(out, "png", bytes);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes.toByteArray());
  }
}
