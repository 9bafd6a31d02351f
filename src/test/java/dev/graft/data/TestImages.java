package dev.graft.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.function.IntBinaryOperator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Writes real image files in every format the tests need, with ImageIO. */
final class TestImages {

  private TestImages() {}

  /** An RGB image whose pixel (x, y) is {@code rgb.applyAsInt(x, y)} (0xRRGGBB). */
  static BufferedImage rgb(int w, int h, IntBinaryOperator rgb) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb.applyAsInt(x, y));
      }
    }
    return img;
  }

  /** A "photo": smooth gradients plus some texture, deterministic. */
  static BufferedImage photo(int w, int h, int variant) {
    return rgb(
        w,
        h,
        (x, y) -> {
          int r = (int) (127 + 120 * Math.sin((x + variant * 7) / 23.0) * Math.cos(y / 31.0));
          int g = (int) (127 + 100 * Math.sin((x + y) / 17.0 + variant));
          int b = (x * 255 / Math.max(1, w - 1) + ((x / 8 + y / 8 + variant) % 2) * 40) & 0xFF;
          return (clamp(r) << 16) | (clamp(g) << 8) | clamp(b);
        });
  }

  /** Four quadrants: top-left red, top-right green, bottom-left blue, bottom-right white. */
  static BufferedImage quadrants(int w, int h) {
    return rgb(
        w,
        h,
        (x, y) -> {
          boolean right = x >= w / 2;
          boolean bottom = y >= h / 2;
          return !bottom ? (right ? 0x00FF00 : 0xFF0000) : (right ? 0xFFFFFF : 0x0000FF);
        });
  }

  static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  static Path write(BufferedImage img, String format, Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    if (!ImageIO.write(img, format, file.toFile())) {
      throw new IOException("no ImageIO writer for " + format + " and " + img);
    }
    return file;
  }

  static byte[] jpegBytes(BufferedImage img, float quality) throws IOException {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /**
   * A JPEG with an EXIF APP1 segment carrying only the Orientation tag, inserted after the JFIF
   * APP0 segment. The TIFF structure is big-endian ("MM") or little-endian ("II").
   */
  static byte[] jpegWithOrientation(BufferedImage img, int orientation, boolean bigEndian)
      throws IOException {
    return jpegWithOrientation(img, orientation, bigEndian, false);
  }

  /**
   * As above; with {@code cameraStyle} the JFIF APP0 segment is replaced by the EXIF one, as
   * cameras and phones write their files.
   */
  static byte[] jpegWithOrientation(
      BufferedImage img, int orientation, boolean bigEndian, boolean cameraStyle)
      throws IOException {
    byte[] jpeg = jpegBytes(img, 0.95f);
    ByteArrayOutputStream tiff = new ByteArrayOutputStream();
    if (bigEndian) {
      tiff.writeBytes(new byte[] {'M', 'M', 0, 42, 0, 0, 0, 8}); // header, IFD0 at offset 8
      tiff.writeBytes(new byte[] {0, 1}); // one entry
      tiff.writeBytes(new byte[] {0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0});
      tiff.writeBytes(new byte[] {0, 0, 0, 0}); // no next IFD
    } else {
      tiff.writeBytes(new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0});
      tiff.writeBytes(new byte[] {1, 0});
      tiff.writeBytes(new byte[] {0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte) orientation, 0, 0, 0});
      tiff.writeBytes(new byte[] {0, 0, 0, 0});
    }
    byte[] payload = tiff.toByteArray();
    int len = 2 + 6 + payload.length;
    ByteArrayOutputStream app1 = new ByteArrayOutputStream();
    app1.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xE1, (byte) (len >> 8), (byte) len});
    app1.writeBytes(new byte[] {'E', 'x', 'i', 'f', 0, 0});
    app1.writeBytes(payload);
    // Insert after SOI and APP0 (if present).
    int at = 2;
    if ((jpeg[2] & 0xFF) == 0xFF && (jpeg[3] & 0xFF) == 0xE0) {
      at = 4 + (((jpeg[4] & 0xFF) << 8) | (jpeg[5] & 0xFF));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, cameraStyle ? 2 : at);
    out.writeBytes(app1.toByteArray());
    out.write(jpeg, at, jpeg.length - at);
    return out.toByteArray();
  }

  /** An 8-bit palette image with 4 colours (index 3 fully transparent). */
  static BufferedImage palette(int w, int h) {
    byte[] r = {(byte) 255, 0, 0, 0};
    byte[] g = {0, (byte) 255, 0, 0};
    byte[] b = {0, 0, (byte) 255, 0};
    byte[] a = {(byte) 255, (byte) 255, (byte) 255, 0};
    IndexColorModel cm = new IndexColorModel(8, 4, r, g, b, a);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm);
    WritableRaster raster = img.getRaster();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.setSample(x, y, 0, (x / 4 + y / 4) % 4);
      }
    }
    return img;
  }

  /** A 16-bit RGB image (TYPE_CUSTOM) with sample (x, y, band) = value. */
  static BufferedImage rgb16(int w, int h, int[] value) {
    ImageTypeSpecifier spec =
        ImageTypeSpecifier.createInterleaved(
            java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB),
            new int[] {0, 1, 2},
            DataBuffer.TYPE_USHORT,
            false,
            false);
    BufferedImage img = spec.createBufferedImage(w, h);
    WritableRaster raster = img.getRaster();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.setPixel(x, y, value);
      }
    }
    return img;
  }

  static Path truncate(Path file, Path to, double keep) throws IOException {
    byte[] b = Files.readAllBytes(file);
    Files.write(to, Arrays.copyOf(b, (int) (b.length * keep)));
    return to;
  }

  /** Overwrites bytes from the middle on with a fixed garbage pattern. */
  static Path garble(Path file, Path to) throws IOException {
    byte[] b = Files.readAllBytes(file);
    for (int i = b.length / 3; i < b.length - 12; i++) {
      b[i] = (byte) (i * 31 + 7);
    }
    Files.write(to, b);
    return to;
  }

  /**
   * A four-channel JPEG as print software writes it: Adobe-style inverted CMYK, top half red,
   * bottom half blue (ImageIO's writer stores a four-band raster as given).
   */
  static byte[] cmykJpeg(int w, int h) throws IOException {
    WritableRaster raster =
        java.awt.image.Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        // Inverted CMYK: 255 = no ink. Red = M + Y ink; blue = C + M ink.
        int[] px = y < h / 2 ? new int[] {255, 0, 0, 255} : new int[] {0, 0, 255, 255};
        raster.setPixel(x, y, px);
      }
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.95f);
      writer.write(null, new IIOImage(raster, null, null), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** A TIFF whose IFD carries an Orientation tag, written with the JDK's TIFF metadata API. */
  static byte[] tiffWithOrientation(BufferedImage img, int orientation) throws IOException {
    ImageWriter writer = null;
    for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("tiff"); it.hasNext(); ) {
      ImageWriter w = it.next();
      if (w.getClass().getName().startsWith("com.sun.imageio.")) {
        writer = w; // the JDK's writer, which knows javax.imageio.plugins.tiff metadata
      }
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      javax.imageio.metadata.IIOMetadata meta =
          writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), param);
      javax.imageio.plugins.tiff.TIFFDirectory dir =
          javax.imageio.plugins.tiff.TIFFDirectory.createFromMetadata(meta);
      dir.addTIFFField(
          new javax.imageio.plugins.tiff.TIFFField(
              javax.imageio.plugins.tiff.BaselineTIFFTagSet.getInstance()
                  .getTag(javax.imageio.plugins.tiff.BaselineTIFFTagSet.TAG_ORIENTATION),
              javax.imageio.plugins.tiff.TIFFTag.TIFF_SHORT,
              1,
              new char[] {(char) orientation}));
      writer.write(null, new IIOImage(img, null, dir.getAsMetadata()), param);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }
}
