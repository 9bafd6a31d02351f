package dev.graft.bench;

import dev.graft.base.Preprocessing;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.demo.DemoData;
import dev.graft.features.FeatureCache;
import dev.graft.features.FeatureKey;
import dev.graft.graph.InferenceGraphs;
import dev.graft.perf.NativeTuning;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Featurize throughput through the feature cache, and bounded memory for a large image count.
 *
 * <pre>
 * featurize real N     ResNet50 GAP features of N MNIST digits at 224 px: cold (compute + write) vs warm (read)
 * featurize bounded N  N tiny files, a synthetic 2048-float featurizer: peak RSS stays flat as N grows
 * </pre>
 */
final class Featurize {
  private Featurize() {}

  static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "real" -> real(Integer.parseInt(args[1]));
      case "bounded" -> bounded(Integer.parseInt(args[1]));
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  /** Optimized ResNet50 up to its last activation, then global average pooling: [n, 2048]. */
  static Function<List<Path>, INDArray> resnetFeaturizer(int size) {
    ComputationGraph zoo = Bench.model("resnet50", size);
    String last = lastActivation(zoo);
    ComputationGraph g = InferenceGraphs.optimize(zoo, List.of(last));
    ImageTransform t = ImageTransform.of(size, Preprocessing.caffe());
    int batch = Integer.getInteger("batch", 16);
    return paths -> {
      List<INDArray> outs = new ArrayList<>();
      for (int i = 0; i < paths.size(); i += batch) {
        List<BufferedImage> imgs = new ArrayList<>();
        for (Path p : paths.subList(i, Math.min(paths.size(), i + batch))) {
          try {
            imgs.add(ImageDecoder.read(p));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        INDArray act = g.outputSingle(false, t.toBatch(imgs));
        outs.add(act.mean(2, 3));
      }
      return outs.size() == 1 ? outs.get(0) : Nd4j.concat(0, outs.toArray(INDArray[]::new));
    };
  }

  static String lastActivation(ComputationGraph g) {
    String[] order = g.getConfiguration().getTopologicalOrderStr().toArray(String[]::new);
    for (int i = order.length - 1; i >= 0; i--) {
      if (g.getVertex(order[i]).hasLayer()
          && g.getVertex(order[i]).getLayer().conf().getLayer()
              instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer) {
        return order[i];
      }
    }
    throw new IllegalStateException("no activation layer");
  }

  static List<Path> mnist(Path dir, int n) throws IOException {
    DemoData demo = DemoData.load();
    Path root = demo.extract(dir, IntStream.range(0, 10).boxed().toList(), 0, (n + 9) / 10);
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .filter(ImageDecoder::hasImageExtension)
          .sorted()
          .limit(n)
          .toList();
    }
  }

  static void real(int n) throws Exception {
    NativeTuning.apply();
    int size = Integer.getInteger("size", 224);
    Path tmp = Files.createTempDirectory("graft-bench-featurize");
    List<Path> images = mnist(tmp.resolve("images"), n);
    Function<List<Path>, INDArray> f = resnetFeaturizer(size);
    f.apply(images.subList(0, Math.min(4, images.size()))); // warm-up
    FeatureKey key =
        FeatureKey.pooled(
            new FeatureKey.Input(
                "resnet50",
                "none:seed=zoo",
                dev.graft.base.Preprocessing.caffe(),
                size,
                dev.graft.data.ResizeMode.CENTER_CROP),
            "last-activation+gap",
            "0".repeat(64));
    long t0 = System.nanoTime();
    long c0 = Bench.cpuNanos();
    try (FeatureCache cache = FeatureCache.open(tmp.resolve("cache"), key)) {
      cache.computeIfAbsent(images, f);
    }
    double cold = (System.nanoTime() - t0) / 1e9;
    double coldCpu =
        n / ((Bench.cpuNanos() - c0) / 1e9) * Runtime.getRuntime().availableProcessors();
    long t1 = System.nanoTime();
    INDArray warm;
    try (FeatureCache cache = FeatureCache.open(tmp.resolve("cache"), key)) {
      warm =
          cache.computeIfAbsent(
              images,
              p -> {
                throw new IllegalStateException("miss on a warm cache");
              });
    }
    double warmS = (System.nanoTime() - t1) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "featurize resnet50 %d px, %d MNIST images: cold %.2f images/s (%.2f by CPU time), warm %.0f images/s (%.4f s), features %s, peak RSS %d MB, load %s%n",
        size,
        n,
        n / cold,
        coldCpu,
        n / warmS,
        warmS,
        java.util.Arrays.toString(warm.shape()),
        Bench.peakRssMb(),
        Bench.load());
  }

  static void bounded(int n) throws Exception {
    Path tmp = Files.createTempDirectory("graft-bench-bounded");
    Path dir = Files.createDirectories(tmp.resolve("files"));
    List<Path> files = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Path p = dir.resolve("f" + i + ".bin");
      Files.writeString(p, "image " + i, StandardCharsets.UTF_8);
      files.add(p);
    }
    int features = 2048;
    long t0 = System.nanoTime();
    List<String> hashes;
    try (FeatureCache cache =
        FeatureCache.open(tmp.resolve("cache"), "bounded-bench").chunkSize(1024)) {
      hashes = cache.populate(files, batch -> Nd4j.rand(DataType.FLOAT, batch.size(), features));
    }
    double write = (System.nanoTime() - t0) / 1e9;
    long rssAfterWrite = Bench.peakRssMb();
    System.gc();
    long heapLive = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
    long t1 = System.nanoTime();
    double sum = 0;
    try (FeatureCache cache = FeatureCache.open(tmp.resolve("cache"), "bounded-bench")) {
      for (int i = 0; i < n; i += 256) {
        try (INDArray rows = cache.rows(hashes.subList(i, Math.min(n, i + 256)))) {
          sum += rows.getDouble(0, 0);
        }
      }
    }
    double read = (System.nanoTime() - t1) / 1e9;
    long bytes;
    try (Stream<Path> s = Files.walk(tmp.resolve("cache"))) {
      bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    System.out.printf(
        Locale.ROOT,
        "bounded: %d images x %d floats: populate %.1f s, read back in batches %.1f s, cache %.0f MB on disk, "
            + "peak RSS after populate %d MB, after reading all %d MB (mapped pages count until reclaimed), heap max %d MB, "
            + "live heap after populate (index of %d entries) %d MB, load %s (check %.3f)%n",
        n,
        features,
        write,
        read,
        bytes / 1e6,
        rssAfterWrite,
        Bench.peakRssMb(),
        Runtime.getRuntime().maxMemory() >> 20,
        n,
        heapLive,
        Bench.load(),
        sum);
  }
}
