package dev.graft.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * EXIF orientation: reading the Orientation tag from the bytes of a JPEG, TIFF or PNG, and turning
 * a decoded image upright by it, so that photos taken with a rotated camera reach the network as
 * the photographer saw them. Used by {@link ImageDecoder}.
 */
final class ExifOrientation {
  private ExifOrientation() {}

  /**
   * The EXIF Orientation (1 to 8) of an encoded JPEG, TIFF or PNG ({@code eXIf} chunk); 1 when
   * there is none or it cannot be read.
   */
  static int of(byte[] b) {
    if (b.length >= 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8) {
      return jpegOrientation(b);
    }
    if (b.length >= 8 && ((b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M'))) {
      return tiffOrientation(b, 0, b.length);
    }
    if (b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      return pngOrientation(b);
    }
    return 1;
  }

  private static int jpegOrientation(byte[] b) {
    int p = 2;
    while (p + 4 <= b.length) {
      if ((b[p] & 0xFF) != 0xFF) {
        return 1;
      }
      int marker = b[p + 1] & 0xFF;
      if (marker == 0xFF) {
        p++;
        continue;
      }
      if (marker == 0xD9 || marker == 0xDA) {
        return 1; // end of image or start of scan: no more metadata segments
      }
      if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
        p += 2;
        continue;
      }
      int len = u16(b, p + 2, false);
      int seg = p + 4;
      int end = p + 2 + len;
      if (len < 2 || end > b.length) {
        return 1;
      }
      if (marker == 0xE1
          && len >= 16
          && b[seg] == 'E'
          && b[seg + 1] == 'x'
          && b[seg + 2] == 'i'
          && b[seg + 3] == 'f'
          && b[seg + 4] == 0
          && b[seg + 5] == 0) {
        return tiffOrientation(b, seg + 6, end);
      }
      p = end;
    }
    return 1;
  }

  private static int pngOrientation(byte[] b) {
    int p = 8;
    while (p + 12 <= b.length) {
      long len = u32(b, p, false);
      if (len < 0 || p + 12 + len > b.length) {
        return 1;
      }
      String type = new String(b, p + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (type.equals("eXIf")) {
        return tiffOrientation(b, p + 8, (int) (p + 8 + len));
      }
      if (type.equals("IDAT") || type.equals("IEND")) {
        return 1;
      }
      p += 12 + (int) len;
    }
    return 1;
  }

  /** Orientation tag (0x0112) of IFD0 of the TIFF structure at {@code t}, or 1. */
  private static int tiffOrientation(byte[] b, int t, int end) {
    if (t + 8 > end) {
      return 1;
    }
    boolean little;
    if (b[t] == 'I' && b[t + 1] == 'I') {
      little = true;
    } else if (b[t] == 'M' && b[t + 1] == 'M') {
      little = false;
    } else {
      return 1;
    }
    if (u16(b, t + 2, little) != 42) {
      return 1;
    }
    long ifd = u32(b, t + 4, little);
    if (ifd < 8 || t + ifd + 2 > end) {
      return 1;
    }
    int pos = (int) (t + ifd);
    int n = u16(b, pos, little);
    for (int i = 0; i < n; i++) {
      int e = pos + 2 + 12 * i;
      if (e + 12 > end) {
        return 1;
      }
      if (u16(b, e, little) == 0x0112) {
        int type = u16(b, e + 2, little);
        long v = type == 3 ? u16(b, e + 8, little) : type == 4 ? u32(b, e + 8, little) : 1;
        return v >= 1 && v <= 8 ? (int) v : 1;
      }
    }
    return 1;
  }

  static int u16(byte[] b, int p, boolean little) {
    int a = b[p] & 0xFF;
    int c = b[p + 1] & 0xFF;
    return little ? a | (c << 8) : (a << 8) | c;
  }

  private static long u32(byte[] b, int p, boolean little) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
      int byteVal = b[p + (little ? 3 - i : i)] & 0xFF;
      v = (v << 8) | byteVal;
    }
    return v;
  }

  /** Applies an EXIF orientation (2 to 8) to a TYPE_INT_RGB image. */
  static BufferedImage apply(BufferedImage img, int orientation) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] in = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
    boolean swap = orientation >= 5;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    BufferedImage out = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
    int[] o = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> {
            sx = w - 1 - x;
            sy = y;
          }
          case 3 -> {
            sx = w - 1 - x;
            sy = h - 1 - y;
          }
          case 4 -> {
            sx = x;
            sy = h - 1 - y;
          }
          case 5 -> {
            sx = y;
            sy = x;
          }
          case 6 -> {
            sx = y;
            sy = h - 1 - x;
          }
          case 7 -> {
            sx = w - 1 - y;
            sy = h - 1 - x;
          }
          case 8 -> {
            sx = w - 1 - y;
            sy = x;
          }
          default -> {
            sx = x;
            sy = y;
          }
        }
        o[y * ow + x] = in[sy * w + sx];
      }
    }
    return out;
  }
}
