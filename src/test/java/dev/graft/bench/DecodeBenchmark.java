package dev.graft.bench;

import dev.graft.base.Preprocessing;
import dev.graft.data.Augmentation;
import dev.graft.data.ImageBatches;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.data.Sample;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Decode + preprocess throughput at 224 px: how many images per second the data pipeline can feed a
 * base, to set next to the base's forward throughput. Not a unit test.
 *
 * <pre>
 * mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -Xmx2g -cp target/classes:target/test-classes:$(cat target/cp.txt) \
 *     dev.graft.bench.DecodeBenchmark [--images 200] [--size 224]
 * </pre>
 *
 * <p>(Run from the repository root: it reads the MNIST digits in {@code src/test/resources}.)
 *
 * <p>Inputs are written to a temporary folder first: synthetic "photos" (smooth gradients plus
 * texture) as JPEG (quality 90) and PNG at 500x375 (a typical web photo) and 1600x1200 (a downsized
 * phone photo), and the MNIST test digits (28x28 gray PNG, upscaled). For each it prints images/s
 * for decoding alone, decode + resize + preprocess on one thread, and {@link ImageBatches} (batch
 * 32, prefetch 2) with 1 and 2 decoding threads, without and with {@link Augmentation#standard()}.
 * A second line divides by the process's CPU time instead of wall time (images per CPU-second, i.e.
 * per fully used core), which stays meaningful on a shared machine.
 */
public final class DecodeBenchmark {

  private DecodeBenchmark() {}

  public static void main(String[] args) throws Exception {
    int images = 200;
    int size = 224;
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--images")) {
        images = Integer.parseInt(args[i + 1]);
      } else if (args[i].equals("--size")) {
        size = Integer.parseInt(args[i + 1]);
      }
    }
    Path dir = Files.createTempDirectory("graft-decode-bench");
    try {
      ImageTransform t = ImageTransform.of(size, Preprocessing.caffe());
      System.out.printf(
          Locale.ROOT,
          "Decode + preprocess at %d px (caffe), %d images per set, " + "%d cores available%n",
          size,
          images,
          Runtime.getRuntime().availableProcessors());
      System.out.printf(
          Locale.ROOT,
          "%-22s %9s %12s %12s %12s %14s%n",
          "input",
          "decode/s",
          "+resize/s",
          "batches 1t/s",
          "batches 2t/s",
          "2t + augment/s");
      run("JPEG 500x375 q90", photos(dir.resolve("j500"), "jpeg", 500, 375, images), t);
      run("PNG 500x375", photos(dir.resolve("p500"), "png", 500, 375, images), t);
      run(
          "JPEG 1600x1200 q90",
          photos(dir.resolve("j1600"), "jpeg", 1600, 1200, Math.max(20, images / 4)),
          t);
      run("MNIST PNG 28x28 gray", mnist(images), t);
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void run(String name, List<Path> files, ImageTransform t) throws Exception {
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      samples.add(new Sample(files.get(i), i % 2));
    }
    ImageDataset data = ImageDataset.of(List.of("a", "b"), samples);
    // Warm-up: JIT, ImageIO registry, ND4J.
    for (int i = 0; i < Math.min(20, files.size()); i++) {
      t.toChw(files.get(i));
    }
    batches(data, t, 2, Augmentation.none());

    long t0 = System.nanoTime();
    long c0 = processCpu();
    for (Path f : files) {
      ImageDecoder.read(f);
    }
    double decode = rate(files.size(), t0);
    double decodeCpu = cpuRate(files.size(), c0);
    t0 = System.nanoTime();
    c0 = processCpu();
    for (Path f : files) {
      t.toChw(f);
    }
    double full = rate(files.size(), t0);
    double fullCpu = cpuRate(files.size(), c0);
    c0 = processCpu();
    double b1 = batches(data, t, 1, Augmentation.none());
    double b1Cpu = cpuRate(files.size(), c0);
    double b2 = batches(data, t, 2, Augmentation.none());
    c0 = processCpu();
    double b2a = batches(data, t, 2, Augmentation.standard());
    double b2aCpu = cpuRate(files.size(), c0);
    System.out.printf(
        Locale.ROOT, "%-22s %9.1f %12.1f %12.1f %12.1f %14.1f%n", name, decode, full, b1, b2, b2a);
    System.out.printf(
        Locale.ROOT,
        "%-22s %9.1f %12.1f %12.1f %12s %14.1f%n",
        "  per CPU-second",
        decodeCpu,
        fullCpu,
        b1Cpu,
        "",
        b2aCpu);
  }

  /** CPU time of the whole process (all threads), in nanoseconds. */
  private static long processCpu() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double cpuRate(int n, long c0) {
    return n / ((processCpu() - c0) / 1e9);
  }

  private static double batches(
      ImageDataset data, ImageTransform t, int threads, Augmentation aug) {
    try (ImageBatches it =
        ImageBatches.builder(data, t)
            .batchSize(32)
            .prefetch(2)
            .threads(threads)
            .shuffle(1)
            .augmentation(aug)
            .build()) {
      long t0 = System.nanoTime();
      int n = 0;
      while (it.hasNext()) {
        DataSet ds = it.next();
        n += ds.numExamples();
      }
      return rate(n, t0);
    }
  }

  private static double rate(int n, long t0) {
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  private static List<Path> photos(Path dir, String format, int w, int h, int n)
      throws IOException {
    Files.createDirectories(dir);
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BufferedImage img = photo(w, h, i);
      Path f = dir.resolve(i + "." + format);
      if (format.equals("jpeg")) {
        javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        javax.imageio.ImageWriteParam p = writer.getDefaultWriteParam();
        p.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(0.9f);
        try (var os = javax.imageio.ImageIO.createImageOutputStream(f.toFile())) {
          writer.setOutput(os);
          writer.write(null, new javax.imageio.IIOImage(img, null, null), p);
        } finally {
          writer.dispose();
        }
      } else {
        ImageIO.write(img, format, f.toFile());
      }
      out.add(f);
    }
    return out;
  }

  /** Smooth gradients with some texture and noise, so that compression has real work to do. */
  private static BufferedImage photo(int w, int h, int seed) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
    double fx = 10 + rnd.nextDouble(30);
    double fy = 10 + rnd.nextDouble(30);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = (int) (127 + 100 * Math.sin(x / fx + seed) * Math.cos(y / fy));
        int g = (int) (127 + 90 * Math.sin((x + y) / (fx + fy)));
        int b = (int) (255.0 * x / w);
        int noise = rnd.nextInt(21) - 10;
        img.setRGB(x, y, (clamp(r + noise) << 16) | (clamp(g + noise) << 8) | clamp(b + noise));
      }
    }
    return img;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  private static List<Path> mnist(int n) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(Path.of("src/test/resources/mnist"))) {
      all = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
    }
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(all.get(i % all.size()));
    }
    return out;
  }
}
