package dev.graft.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DataBufferUShort;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Reads an image file of any format Java's ImageIO knows (JPEG, PNG, GIF, BMP, TIFF, WBMP, and
 * whatever plugins are on the class path), and WebP (lossy and lossless, with TwelveMonkeys'
 * pure-Java reader, pinned by the pom), into an upright 8-bit RGB image.
 *
 * <ul>
 *   <li>The format is recognised from the file's first bytes, not its name.
 *   <li>JPEG (and TIFF, and PNG's {@code eXIf} chunk): the EXIF Orientation tag is applied, so a
 *       phone photo taken in portrait comes out in portrait.
 *   <li>Grayscale becomes three equal channels; 16-bit samples are rounded to 8 bits; palette
 *       images are expanded; an alpha channel is composited on white. Samples are taken as stored
 *       (no colour-management conversion), as PIL and the pipelines the ImageNet weights were
 *       trained with do.
 *   <li>A truncated JPEG (which ImageIO would otherwise fill with grey and only warn about), a
 *       corrupt file, a zero-byte file or a file that is not an image throws an {@link IOException}
 *       naming the file and the reason.
 * </ul>
 *
 * <pre>{@code
 * BufferedImage img = ImageDecoder.read(Path.of("IMG_0042.jpg"));  // TYPE_INT_RGB, upright
 * }</pre>
 *
 * <p>Thread-safe: every call uses its own reader.
 *
 * <p>Why one class of this size: decoding, CMYK/YCCK conversion and EXIF orientation all work on
 * the same raster as it leaves ImageIO, and the colour fixes depend on the JPEG metadata read there
 * (EXIF orientation, which only needs the bytes, is {@link ExifOrientation}).
 */
public final class ImageDecoder {

  /** Images above this many pixels are subsampled while decoding so that memory stays bounded. */
  static final long MAX_PIXELS = 1L << 26; // 67 megapixels, 256 MiB as TYPE_INT_RGB

  /**
   * The pixel budget: an image declaring more pixels is refused before decoding (268 megapixels;
   * system property {@code graft.limits.maxImagePixels}). WebP, whose reader decodes the whole
   * image before subsampling, may declare at most {@link #MAX_PIXELS}.
   */
  static final long MAX_DECLARED_PIXELS = dev.graft.io.Limits.property("maxImagePixels", 1L << 28);

  /** Widest or tallest image accepted (a row of it is buffered while decoding). */
  static final long MAX_SIDE = 1L << 16;

  /**
   * Pixels an image may declare per byte of its file, above {@link #SMALL_IMAGE_PIXELS}: 16,384
   * (system property {@code graft.limits.maxPixelsPerByte}). A flat 1-bit PNG reaches about 8,000;
   * a 42-byte lossless WebP declaring 16384 x 16384 pixels would be 6 million.
   */
  static final long MAX_PIXELS_PER_BYTE =
      dev.graft.io.Limits.property("maxPixelsPerByte", 1L << 14);

  /** Pixels any image may declare whatever its file size (4 megapixels, 16 MiB decoded). */
  static final long SMALL_IMAGE_PIXELS = 1L << 22;

  /**
   * Most bytes of one image file read: 256 MiB (system property {@code
   * graft.limits.maxImageBytes}).
   */
  static final long MAX_FILE_BYTES = dev.graft.io.Limits.property("maxImageBytes", 256L << 20);

  /**
   * Wall-clock budget of one decode, in milliseconds: 30 s (system property {@code
   * graft.limits.maxDecodeMillis}); the reader is aborted when it runs out.
   */
  static final long DECODE_MILLIS = dev.graft.io.Limits.property("maxDecodeMillis", 30_000);

  /**
   * Aborts decodes that run past {@link #DECODE_MILLIS}; a cancelled alarm leaves the queue at
   * once, so finished decodes do not keep their readers reachable.
   */
  private static final java.util.concurrent.ScheduledThreadPoolExecutor WATCHDOG = watchdog();

  private static java.util.concurrent.ScheduledThreadPoolExecutor watchdog() {
    var w =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "graft-decode-watchdog");
              t.setDaemon(true);
              return t;
            });
    w.setRemoveOnCancelPolicy(true);
    return w;
  }

  /** File name extensions treated as images (lower case, no dot). */
  private static final Set<String> EXTENSIONS = extensions();

  private ImageDecoder() {}

  /**
   * Reads and decodes one image file.
   *
   * @return an upright {@link BufferedImage#TYPE_INT_RGB} image
   * @throws IOException if the file cannot be read or is not a decodable image; the message names
   *     the file and the reason
   */
  public static BufferedImage read(Path file) throws IOException {
    return read(readBounded(file), file.toString());
  }

  /**
   * The bytes of an image file: only a regular file (a FIFO would block, {@code /dev/zero} never
   * end), and at most {@link #MAX_FILE_BYTES}, checked before reading and while reading.
   */
  static byte[] readBounded(Path file) throws IOException {
    String why = notARegularImageFile(file);
    if (why != null) {
      throw new IOException(file + ": " + why);
    }
    try (InputStream in = Files.newInputStream(file)) {
      return readBounded(in, file.toString());
    }
  }

  private static byte[] readBounded(InputStream in, String name) throws IOException {
    byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_FILE_BYTES + 1));
    if (bytes.length > MAX_FILE_BYTES) {
      throw new IOException(
          name
              + ": more than "
              + MAX_FILE_BYTES
              + " bytes, the most read of one image (graft.limits.maxImageBytes); refused");
    }
    return bytes;
  }

  /** Null for a regular file of an acceptable size, otherwise why it is refused. */
  private static String notARegularImageFile(Path file) throws IOException {
    java.nio.file.attribute.BasicFileAttributes a =
        Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
    if (!a.isRegularFile()) {
      return "not a regular file (a directory, FIFO or device); refused without reading it";
    }
    if (a.size() > MAX_FILE_BYTES) {
      return a.size()
          + " bytes, more than the "
          + MAX_FILE_BYTES
          + " read of one image (graft.limits.maxImageBytes); refused";
    }
    return null;
  }

  /**
   * Decodes an image held in memory.
   *
   * @param bytes the encoded file
   * @param name the name to put in error messages
   * @return an upright {@link BufferedImage#TYPE_INT_RGB} image
   * @throws IOException if the bytes are not a decodable image
   */
  public static BufferedImage read(byte[] bytes, String name) throws IOException {
    if (bytes.length == 0) {
      throw new IOException(name + ": zero-byte file");
    }
    BufferedImage decoded;
    try {
      decoded = decode(bytes, name);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(name + ": ")) {
        throw e;
      }
      // EOFException and friends straight from a reader.
      throw new IOException(
          name + (endsEarly(e) ? ": truncated image (" : ": corrupt image (") + e + ")", e);
    } catch (RuntimeException | OutOfMemoryError e) {
      // ImageIO plugins answer some corrupt files with unchecked exceptions.
      throw new IOException(name + ": corrupt image (" + e + ")", e);
    }
    // CMYK comes from the JDK readers as ink amounts (Adobe's inverted JPEG values undone).
    BufferedImage rgb = toRgb(decoded);
    int orientation = ExifOrientation.of(bytes);
    return orientation == 1 ? rgb : ExifOrientation.apply(rgb, orientation);
  }

  /**
   * Reads an image from a stream (for example an upload); the stream is read to its end but not
   * closed.
   */
  public static BufferedImage read(InputStream in, String name) throws IOException {
    return read(readBounded(in, name), name);
  }

  /**
   * Whether a file's name ends with an image extension Graft looks at (jpg, jpeg, png, gif, bmp,
   * tif, tiff, and any suffix an installed ImageIO reader declares). Case-insensitive.
   */
  public static boolean hasImageExtension(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /** The image extensions recognised by {@link #hasImageExtension(Path)}, sorted. */
  public static Set<String> imageExtensions() {
    return java.util.Collections.unmodifiableSet(EXTENSIONS);
  }

  /**
   * A quick check that does not decode pixels: the file is non-empty and its first bytes are
   * recognised by an ImageIO reader.
   *
   * @return null if the file looks like an image, otherwise the reason it does not
   */
  static String probe(Path file) throws IOException {
    String irregular = notARegularImageFile(file);
    if (irregular != null) {
      return irregular;
    }
    long size = Files.size(file);
    if (size == 0) {
      return "zero-byte file";
    }
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(64);
    }
    if (!isWebP(head)) {
      try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(head))) {
        if (!ImageIO.getImageReaders(iis).hasNext()) {
          return "not an image (format not recognised" + describeHead(head) + ")";
        }
      }
    }
    // The dimensions the header declares, read without decoding pixels; a header that cannot be
    // read is left to the decoder, which names what is wrong.
    try (ImageInputStream iis = new javax.imageio.stream.FileImageInputStream(file.toFile())) {
      ImageReader reader = isWebP(head) ? webPReader() : pick(ImageIO.getImageReaders(iis));
      try {
        reader.setInput(iis, true, true);
        return overBudget(reader, size);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Null if the dimensions the reader's header declares fit the budgets, otherwise why the image is
   * refused: each side at most {@link #MAX_SIDE}, at most {@link #MAX_DECLARED_PIXELS} pixels (WebP
   * {@link #MAX_PIXELS}), and at most {@link #MAX_PIXELS_PER_BYTE} pixels per byte of the file
   * above {@link #SMALL_IMAGE_PIXELS}: a few bytes may not declare gigabytes of pixels.
   */
  private static String overBudget(ImageReader reader, long fileBytes) throws IOException {
    long w = reader.getWidth(0);
    long h = reader.getHeight(0);
    long pixels = w * h;
    String size = w + "x" + h;
    boolean webp =
        reader.getOriginatingProvider()
            instanceof com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;
    long budget = webp ? Math.min(MAX_PIXELS, MAX_DECLARED_PIXELS) : MAX_DECLARED_PIXELS;
    if (w > MAX_SIDE || h > MAX_SIDE || pixels > budget) {
      return "declares "
          + size
          + " pixels, more than the "
          + (w > MAX_SIDE || h > MAX_SIDE ? MAX_SIDE + "-pixel side" : budget + "-pixel budget")
          + " (graft.limits.maxImagePixels); refused before decoding";
    }
    long allowed = Math.max(SMALL_IMAGE_PIXELS, fileBytes * MAX_PIXELS_PER_BYTE);
    if (fileBytes > 0 && pixels > allowed) {
      return "declares "
          + size
          + " pixels in only "
          + fileBytes
          + " bytes (more than "
          + MAX_PIXELS_PER_BYTE
          + " pixels per byte, graft.limits.maxPixelsPerByte); refused before decoding";
    }
    return null;
  }

  /** A RIFF container of WebP data ({@code RIFF....WEBP}). */
  static boolean isWebP(byte[] head) {
    return head.length >= 12
        && head[0] == 'R'
        && head[1] == 'I'
        && head[2] == 'F'
        && head[3] == 'F'
        && head[8] == 'W'
        && head[9] == 'E'
        && head[10] == 'B'
        && head[11] == 'P';
  }

  /**
   * TwelveMonkeys' pure-Java WebP reader (lossy VP8 and lossless VP8L), made directly rather than
   * found through the ImageIO registry, so that the reader, and the pixels, are the ones the pom
   * pins whatever else is on the class path.
   */
  private static ImageReader webPReader() throws IOException {
    return new com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi().createReaderInstance();
  }

  private static String describeHead(byte[] head) {
    if (head.length >= 12
        && new String(head, 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1).equals("ftyp")) {
      return "; HEIC/AVIF is not supported by ImageIO";
    }
    return "";
  }

  private static BufferedImage decode(byte[] bytes, String name) throws IOException {
    return decode(bytes, name, DECODE_MILLIS);
  }

  /**
   * Decodes with a wall-clock budget of {@code millis}: past it the reader is aborted and its input
   * fails every further read ({@link EncodedBytes#cancel}), which stops even a reader that ignores
   * {@code abort()} (TwelveMonkeys' WebP) at its next read; the result is refused either way.
   */
  static BufferedImage decode(byte[] bytes, String name, long millis) throws IOException {
    java.util.concurrent.atomic.AtomicBoolean late =
        new java.util.concurrent.atomic.AtomicBoolean();
    try (EncodedBytes iis = new EncodedBytes(bytes)) {
      ImageReader reader;
      if (isWebP(bytes)) {
        reader = webPReader();
      } else {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
        if (!readers.hasNext()) {
          byte[] head = java.util.Arrays.copyOf(bytes, Math.min(bytes.length, 64));
          throw new IOException(
              name + ": not an image (format not recognised" + describeHead(head) + ")");
        }
        reader = pick(readers);
      }
      List<String> warnings = new ArrayList<>();
      try {
        reader.setInput(iis, true, true);
        reader.addIIOReadWarningListener(
            new IIOReadWarningListener() {
              @Override
              public void warningOccurred(ImageReader source, String warning) {
                warnings.add(warning);
              }
            });
        ImageReadParam param = reader.getDefaultReadParam();
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        String over = overBudget(reader, bytes.length);
        if (over != null) {
          throw new IOException(name + ": " + over);
        }
        if (pixels <= 0) {
          throw new IOException(
              name
                  + ": corrupt image (size "
                  + reader.getWidth(0)
                  + "x"
                  + reader.getHeight(0)
                  + ")");
        }
        if (pixels > MAX_PIXELS) {
          int step = (int) Math.ceil(Math.sqrt((double) pixels / MAX_PIXELS));
          param.setSourceSubsampling(step, step, 0, 0);
        }
        BufferedImage img;
        ImageReader running = reader;
        java.util.concurrent.ScheduledFuture<?> alarm =
            WATCHDOG.schedule(
                () -> {
                  late.set(true);
                  running.abort();
                  iis.cancel();
                },
                millis,
                java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
          try {
            img = reader.read(0, param);
          } catch (IIOException e) {
            img = readUnsupportedJpeg(reader, param, e, bytes);
          }
        } finally {
          alarm.cancel(false);
        }
        if (late.get()) {
          throw overTime(name, millis, null);
        }
        for (String w : warnings) {
          String lower = w.toLowerCase(Locale.ROOT);
          if (lower.contains("premature end") || lower.contains("truncated")) {
            throw new IOException(
                name
                    + ": truncated "
                    + reader.getFormatName().toUpperCase(Locale.ROOT)
                    + " ("
                    + w
                    + ")");
          }
        }
        return img;
      } catch (IIOException e) {
        if (late.get()) {
          throw overTime(name, millis, e);
        }
        String kind = endsEarly(e) ? ": truncated " : ": corrupt ";
        throw new IOException(
            name
                + kind
                + reader.getFormatName().toUpperCase(Locale.ROOT)
                + " ("
                + rootMessage(e)
                + ")",
            e);
      } finally {
        reader.dispose();
      }
    }
  }

  private static IOException overTime(String name, long millis, Throwable cause) {
    return new IOException(
        name
            + ": decoding took longer than "
            + millis
            + " ms (graft.limits.maxDecodeMillis); refused",
        cause);
  }

  /**
   * The JDK's own reader when it knows the format, otherwise the plugin reader first by class name.
   * Plugins on the class path (DL4J brings TwelveMonkeys and jai-imageio) register in an order that
   * changes from run to run; picking explicitly keeps the pixels, and the handling of bad files,
   * the same in every run.
   */
  private static ImageReader pick(Iterator<ImageReader> readers) {
    List<ImageReader> all = new ArrayList<>();
    readers.forEachRemaining(all::add);
    all.sort(
        java.util.Comparator.comparing(
                (ImageReader r) -> !r.getClass().getName().startsWith("com.sun.imageio."))
            .thenComparing(r -> r.getClass().getName()));
    for (int i = 1; i < all.size(); i++) {
      all.get(i).dispose();
    }
    return all.get(0);
  }

  private static boolean endsEarly(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.io.EOFException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
      sb.append(": ").append(t);
    }
    return sb.toString();
  }

  /**
   * Older JDK JPEG readers refuse some CMYK and YCCK JPEGs (as saved by Photoshop for print) with
   * "Unsupported Image Type"; their raster can still be read and converted here.
   */
  private static BufferedImage readUnsupportedJpeg(
      ImageReader reader, ImageReadParam param, IIOException cause, byte[] bytes)
      throws IOException {
    if (!"jpeg".equalsIgnoreCase(reader.getFormatName())
        || cause.getMessage() == null
        || !cause.getMessage().contains("Unsupported Image Type")) {
      throw cause;
    }
    Raster raster = reader.readRaster(0, param);
    if (raster.getNumBands() != 4) {
      throw cause;
    }
    int w = raster.getWidth();
    int h = raster.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    int[] px = new int[4 * w];
    // Adobe CMYK JPEGs store inverted values (255 = no ink), so RGB = stored C x stored K / 255.
    // YCCK (Adobe transform 2) holds YCbCr of 255 - C, 255 - M, 255 - Y, plus stored K.
    boolean ycck = adobeTransform(bytes) == 2;
    for (int y = 0; y < h; y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, px);
      for (int x = 0; x < w; x++) {
        int c = px[4 * x];
        int m = px[4 * x + 1];
        int ye = px[4 * x + 2];
        int k = px[4 * x + 3];
        if (ycck) {
          double luma = c;
          double cb = m - 128.0;
          double cr = ye - 128.0;
          c = 255 - clamp(luma + 1.402 * cr);
          m = 255 - clamp(luma - 0.344136 * cb - 0.714136 * cr);
          ye = 255 - clamp(luma + 1.772 * cb);
        }
        int r = c * k / 255;
        int g = m * k / 255;
        int b = ye * k / 255;
        dst[y * w + x] = (r << 16) | (g << 8) | b;
      }
    }
    return out;
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  /** The transform flag of a JPEG's Adobe APP14 segment (0 CMYK, 1 YCbCr, 2 YCCK), or -1. */
  static int adobeTransform(byte[] b) {
    int p = 2;
    while (b.length >= 4 && p + 4 <= b.length && (b[p] & 0xFF) == 0xFF) {
      int marker = b[p + 1] & 0xFF;
      if (marker == 0xD9 || marker == 0xDA) {
        return -1;
      }
      int len = ExifOrientation.u16(b, p + 2, false);
      int seg = p + 4;
      if (len < 2 || p + 2 + len > b.length) {
        return -1;
      }
      if (marker == 0xEE
          && len >= 14
          && b[seg] == 'A'
          && b[seg + 1] == 'd'
          && b[seg + 2] == 'o'
          && b[seg + 3] == 'b'
          && b[seg + 4] == 'e') {
        return b[seg + 11] & 0xFF;
      }
      p += 2 + len;
    }
    return -1;
  }

  /**
   * Converts any {@link BufferedImage} to {@link BufferedImage#TYPE_INT_RGB}: grayscale to three
   * equal channels, 16-bit samples rounded to 8 bits, palettes expanded, alpha composited on white.
   * An image that already is {@code TYPE_INT_RGB}, with its pixels packed row after row from the
   * start of its buffer, is returned as is; any other, a {@link BufferedImage#getSubimage
   * sub-image} of one included, is copied. Callers read the result's buffer directly.
   */
  public static BufferedImage toRgb(BufferedImage src) {
    if (src.getType() == BufferedImage.TYPE_INT_RGB && packed(src)) {
      return src;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    ColorModel cm = src.getColorModel();
    if (!(cm instanceof ComponentColorModel) || !componentToRgb(src, dst)) {
      // Palette and packed (DirectColorModel) images: getRGB gives non-premultiplied sRGB ARGB.
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        src.getRGB(0, y, w, 1, row, 0, w);
        for (int x = 0; x < w; x++) {
          dst[y * w + x] = cm.hasAlpha() ? onWhite(row[x]) : row[x] & 0xFFFFFF;
        }
      }
    }
    return out;
  }

  /** Whether the image's int pixels fill its buffer row after row from index 0 (no sub-image). */
  private static boolean packed(BufferedImage img) {
    WritableRaster r = img.getRaster();
    return r.getSampleModel() instanceof SinglePixelPackedSampleModel sm
        && sm.getScanlineStride() == img.getWidth()
        && r.getSampleModelTranslateX() == 0
        && r.getSampleModelTranslateY() == 0
        && r.getDataBuffer().getOffset() == 0
        && r.getDataBuffer().getSize() == img.getWidth() * img.getHeight();
  }

  private static int onWhite(int argb) {
    int a = argb >>> 24;
    if (a == 255) {
      return argb & 0xFFFFFF;
    }
    int r = blend((argb >> 16) & 0xFF, a);
    int g = blend((argb >> 8) & 0xFF, a);
    int b = blend(argb & 0xFF, a);
    return (r << 16) | (g << 8) | b;
  }

  private static int blend(int c, int a) {
    return (c * a + 255 * (255 - a) + 127) / 255;
  }

  /**
   * Reads the samples of a component image as stored (no colour-space conversion, which for gray
   * images in Java would apply a linear-to-sRGB curve).
   *
   * @return false if the layout is not one handled here
   */
  private static boolean componentToRgb(BufferedImage src, int[] dst) {
    ComponentColorModel cm = (ComponentColorModel) src.getColorModel();
    Raster raster = src.getRaster();
    SampleModel sm = raster.getSampleModel();
    DataBuffer db = raster.getDataBuffer();
    int colors = cm.getNumColorComponents();
    int bands = cm.getNumComponents();
    int csType = cm.getColorSpace().getType();
    boolean gray = colors == 1;
    boolean rgb = colors == 3;
    boolean cmyk = colors == 4 && csType == ColorSpace.TYPE_CMYK;
    if (!(gray || rgb || cmyk)
        || !(sm instanceof ComponentSampleModel csm)
        || sm.getNumBands() != bands) {
      return false;
    }
    int bits = cm.getComponentSize(0);
    for (int i = 1; i < bands; i++) {
      if (cm.getComponentSize(i) != bits) {
        return false;
      }
    }
    int max;
    if (db instanceof DataBufferByte && bits <= 8) {
      max = (1 << bits) - 1;
    } else if (db instanceof DataBufferUShort && bits <= 16) {
      max = (1 << bits) - 1;
    } else {
      return false;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    int pixelStride = csm.getPixelStride();
    int scanline = csm.getScanlineStride();
    int[] bandOffsets = csm.getBandOffsets();
    int[] banks = csm.getBankIndices();
    int[] dbOffsets = db.getOffsets();
    int tx = raster.getSampleModelTranslateX();
    int ty = raster.getSampleModelTranslateY();
    boolean alpha = cm.hasAlpha();
    boolean premultiplied = cm.isAlphaPremultiplied();
    int[] base = new int[bands];
    Object[] data = new Object[bands];
    for (int b = 0; b < bands; b++) {
      base[b] = dbOffsets[banks[b]] + bandOffsets[b] + (-ty) * scanline + (-tx) * pixelStride;
      data[b] =
          db instanceof DataBufferByte bb
              ? bb.getData(banks[b])
              : ((DataBufferUShort) db).getData(banks[b]);
    }
    if (max == 255
        && !alpha
        && (gray || rgb)
        && data[0] instanceof byte[]
        && data[0] == data[bands - 1]) {
      // Fast path for the common case (8-bit gray or RGB in one bank, e.g. every JPEG).
      byte[] d = (byte[]) data[0];
      int b0 = base[0];
      int b1 = base[gray ? 0 : 1];
      int b2 = base[gray ? 0 : 2];
      for (int y = 0; y < h; y++) {
        int p = y * scanline;
        int o = y * w;
        for (int x = 0; x < w; x++, p += pixelStride) {
          dst[o + x] = ((d[b0 + p] & 0xFF) << 16) | ((d[b1 + p] & 0xFF) << 8) | (d[b2 + p] & 0xFF);
        }
      }
      return true;
    }
    int[] s = new int[bands];
    for (int y = 0; y < h; y++) {
      int rowStart = y * scanline;
      for (int x = 0; x < w; x++) {
        int p = rowStart + x * pixelStride;
        for (int b = 0; b < bands; b++) {
          int v =
              data[b] instanceof byte[] arr
                  ? arr[base[b] + p] & 0xFF
                  : ((short[]) data[b])[base[b] + p] & 0xFFFF;
          s[b] = max == 255 ? v : (v * 255 + max / 2) / max;
        }
        int r;
        int g;
        int bl;
        if (gray) {
          r = g = bl = s[0];
        } else if (rgb) {
          r = s[0];
          g = s[1];
          bl = s[2];
        } else {
          int k = 255 - s[3];
          r = (255 - s[0]) * k / 255;
          g = (255 - s[1]) * k / 255;
          bl = (255 - s[2]) * k / 255;
        }
        if (alpha) {
          int a = s[bands - 1];
          if (premultiplied) {
            r = Math.min(255, r + (255 - a));
            g = Math.min(255, g + (255 - a));
            bl = Math.min(255, bl + (255 - a));
          } else if (a != 255) {
            r = blend(r, a);
            g = blend(g, a);
            bl = blend(bl, a);
          }
        }
        dst[y * w + x] = (r << 16) | (g << 8) | bl;
      }
    }
    return true;
  }

  private static Set<String> extensions() {
    Set<String> s =
        new TreeSet<>(
            List.of("jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "tif", "tiff", "webp"));
    for (String suffix : ImageIO.getReaderFileSuffixes()) {
      if (!suffix.isEmpty()) {
        s.add(suffix.toLowerCase(Locale.ROOT));
      }
    }
    return s;
  }
}
