package dev.graft.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Preprocessing;
import dev.graft.data.ResizeMode;
import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class FeatureCacheTest {
  private static final int SIZE = 32;

  @TempDir static Path shared;
  private static List<Path> images;
  private static ComputationGraph net;

  @TempDir Path root;

  @BeforeAll
  static void setUp() throws IOException {
    images = writeImages(shared.resolve("images"), 12, 1);
    net =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(7)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(SIZE, SIZE, 3))
                .addLayer(
                    "conv",
                    new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.RELU).build(),
                    "in")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .setOutputs("conv", "gap")
                .build());
    net.init();
  }

  static List<Path> writeImages(Path dir, int n, long seed) throws IOException {
    Files.createDirectories(dir);
    Random r = new Random(seed);
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < SIZE; y++) {
        for (int x = 0; x < SIZE; x++) {
          img.setRGB(x, y, r.nextInt(1 << 24));
        }
      }
      Path p = dir.resolve(String.format("img%03d.png", i));
      ImageIO.write(img, "png", p.toFile());
      out.add(p);
    }
    return out;
  }

  /** Decodes images into [N, 3, SIZE, SIZE] floats in [0, 1]. */
  static INDArray pixels(List<Path> files) {
    float[] data = new float[files.size() * 3 * SIZE * SIZE];
    int i = 0;
    for (Path f : files) {
      BufferedImage img;
      try {
        img = ImageIO.read(f.toFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < SIZE; y++) {
          for (int x = 0; x < SIZE; x++) {
            data[i++] = ((img.getRGB(x, y) >> (16 - 8 * c)) & 0xff) / 255f;
          }
        }
      }
    }
    return Nd4j.create(data, new long[] {files.size(), 3, SIZE, SIZE}, 'c');
  }

  /** Conv activations [N, 8, 30, 30] of the real network: a boundary-style 4-D item. */
  private static INDArray convFeatures(List<Path> files) {
    // DL4J returns the conv output as a permuted view: the cache must store it in logical order
    return net.output(false, pixels(files))[0];
  }

  /** Deterministic fake features: 16 floats from the file's hash. */
  static INDArray fakeFeaturize(List<Path> files) {
    float[][] rows = new float[files.size()][16];
    for (int i = 0; i < files.size(); i++) {
      String h;
      try {
        h = FeatureCache.contentHash(files.get(i));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (int j = 0; j < 16; j++) {
        rows[i][j] = Integer.parseInt(h.substring(2 * j, 2 * j + 4), 16) / 7f - j;
      }
    }
    return Nd4j.create(rows).castTo(DataType.FLOAT);
  }

  static INDArray slowFeaturize(List<Path> files) {
    try {
      Thread.sleep(30);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return fakeFeaturize(files);
  }

  private static FeatureKey key() {
    return FeatureKey.pooled(
        input("tiny", "none:seed=7", Preprocessing.unit(), SIZE), "conv", "ab");
  }

  private static FeatureKey.Input input(String id, String weights, Preprocessing p, int size) {
    return new FeatureKey.Input(id, weights, p, size, ResizeMode.CENTER_CROP);
  }

  private static Function<List<Path>, INDArray> counting(
      AtomicInteger calls, Function<List<Path>, INDArray> f) {
    return batch -> {
      calls.addAndGet(batch.size());
      return f.apply(batch);
    };
  }

  private static Function<List<Path>, INDArray> mustNotRun() {
    return batch -> {
      throw new AssertionError("featurizer called on a cache hit for " + batch);
    };
  }

  @Test
  void hitIsBitIdenticalAcrossInstances() throws IOException {
    INDArray first;
    AtomicInteger calls = new AtomicInteger();
    try (FeatureCache cache = FeatureCache.open(root, key()).chunkSize(5)) {
      first = cache.computeIfAbsent(images, counting(calls, FeatureCacheTest::convFeatures));
      assertEquals(images.size(), calls.get());
      assertArrayEquals(new long[] {images.size(), 8, 30, 30}, first.shape());
    }
    INDArray direct = convFeatures(images).dup('c');
    assertArrayEquals(
        direct.data().asFloat(), first.data().asFloat(), "cache returns what the network computed");

    try (FeatureCache cache = FeatureCache.open(root, key())) {
      assertEquals(images.size(), cache.size());
      INDArray again = cache.computeIfAbsent(images, mustNotRun());
      assertArrayEquals(first.data().asFloat(), again.data().asFloat());
      // single reads, copied and zero-copy, in any order
      String h = FeatureCache.contentHash(images.get(3));
      float[] row =
          first.get(org.nd4j.linalg.indexing.NDArrayIndex.point(3)).dup().data().asFloat();
      assertArrayEquals(row, cache.get(h).orElseThrow());
      float[] viewed = new float[row.length];
      cache.view(h).orElseThrow().get(viewed);
      assertArrayEquals(row, viewed);
      assertEquals(images.size(), cache.stats().hits());
      assertEquals(0, cache.stats().misses());
    }
  }

  @Test
  void partialHitComputesOnlyMissingImagesAndKeepsOrder() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    try (FeatureCache cache = FeatureCache.open(root, key())) {
      cache.computeIfAbsent(images.subList(0, 5), FeatureCacheTest::fakeFeaturize);
    }
    try (FeatureCache cache = FeatureCache.open(root, key())) {
      List<Path> reversed = new ArrayList<>(images);
      java.util.Collections.reverse(reversed);
      INDArray out =
          cache.computeIfAbsent(reversed, counting(calls, FeatureCacheTest::fakeFeaturize));
      assertEquals(images.size() - 5, calls.get());
      assertEquals(fakeFeaturize(reversed), out);
    }
  }

  @Test
  void putFlushAndReopen() throws IOException {
    String h = "ab".repeat(32);
    float[] v = {1.5f, -0f, Float.NaN, Float.MIN_VALUE};
    try (FeatureCache cache = FeatureCache.open(root, "plain key")) {
      assertTrue(cache.get(h).isEmpty());
      cache.put(h, v);
      assertArrayEquals(v, cache.get(h).orElseThrow());
      assertThrows(GraftException.class, () -> cache.put("cd".repeat(32), new float[3]));
      assertThrows(GraftException.class, () -> cache.put("not a hash", v));
    }
    try (FeatureCache cache = FeatureCache.open(root, "plain key")) {
      float[] back = cache.get(h).orElseThrow();
      for (int i = 0; i < v.length; i++) {
        assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(back[i]));
      }
      assertArrayEquals(new long[] {4}, cache.itemShape().orElseThrow());
    }
  }

  @Test
  void anyChangedKeyComponentMisses() throws IOException {
    FeatureKey k = key();
    String w = k.input().weightsKey();
    Preprocessing p = k.input().preprocessing();
    try (FeatureCache cache = FeatureCache.open(root, k)) {
      cache.computeIfAbsent(images, FeatureCacheTest::fakeFeaturize);
    }
    List<FeatureKey> changed =
        List.of(
            new FeatureKey(input("tiny2", w, p, SIZE), k.cut(), k.computation()),
            new FeatureKey(input("tiny", "none:seed=8", p, SIZE), k.cut(), k.computation()),
            new FeatureKey(k.input(), "gap", k.computation()),
            new FeatureKey(input("tiny", w, Preprocessing.caffe(), SIZE), k.cut(), k.computation()),
            new FeatureKey(input("tiny", w, p, SIZE + 1), k.cut(), k.computation()),
            new FeatureKey(
                new FeatureKey.Input("tiny", w, p, SIZE, ResizeMode.STRETCH),
                k.cut(),
                k.computation()),
            FeatureKey.pooled(k.input(), k.cut(), "cd"),
            FeatureKey.activations(k.input(), k.cut(), List.of("conv")).output("conv"));
    // the same preprocessing name with the publisher's crop: training's activation keys differ too
    FeatureKey.Input cropped =
        input("tiny", w, p.withCrop(0.875f, dev.graft.base.Interpolation.BICUBIC), SIZE);
    assertNotEquals(
        FeatureKey.activations(k.input(), k.cut(), List.of("conv")).canonical(),
        FeatureKey.activations(cropped, k.cut(), List.of("conv")).canonical());
    for (FeatureKey other : changed) {
      try (FeatureCache cache = FeatureCache.open(root, other)) {
        assertEquals(0, cache.size(), "must miss for " + other);
        assertFalse(cache.contains(FeatureCache.contentHash(images.get(0))));
      }
    }
    try (FeatureCache cache = FeatureCache.open(root, k)) {
      assertEquals(images.size(), cache.size());
    }
    // a changed image misses too
    Path edited = shared.resolve("edited.png");
    Files.copy(images.get(0), edited, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.write(edited, new byte[] {0}, StandardOpenOption.APPEND);
    try (FeatureCache cache = FeatureCache.open(root, k)) {
      assertFalse(cache.contains(FeatureCache.contentHash(edited)));
    }
  }

  @Test
  void truncatedOrCorruptedFileIsDetectedAndRebuilt() throws IOException {
    INDArray expected;
    try (FeatureCache cache = FeatureCache.open(root, key()).chunkSize(100)) {
      expected = cache.computeIfAbsent(images, FeatureCacheTest::fakeFeaturize);
    }
    Path dir;
    try (FeatureCache c = FeatureCache.open(root, key())) {
      dir = c.directory();
    }
    Path segment = onlySegment(dir);
    long size = Files.size(segment);
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(size - 5);
    }
    AtomicInteger calls = new AtomicInteger();
    try (FeatureCache cache = FeatureCache.open(root, key())) {
      assertEquals(1, cache.stats().discardedFiles());
      assertEquals(0, cache.size());
      INDArray rebuilt =
          cache.computeIfAbsent(images, counting(calls, FeatureCacheTest::fakeFeaturize));
      assertEquals(images.size(), calls.get());
      assertEquals(expected, rebuilt);
    }
    // flip one byte in the data: the checksum catches it
    segment = onlySegment(dir);
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 3] ^= 0x10;
    Files.write(segment, bytes);
    try (FeatureCache cache = FeatureCache.open(root, key())) {
      assertEquals(1, cache.stats().discardedFiles());
      assertEquals(0, cache.size());
    }
  }

  private static Path onlySegment(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> segs = s.filter(p -> p.toString().endsWith(FeatureCache.SEGMENT_SUFFIX)).toList();
      assertEquals(1, segs.size(), "segments: " + segs);
      return segs.get(0);
    }
  }

  @Test
  void twoProcessesWritingAtOnceLeaveAValidCache() throws Exception {
    Path dir = root.resolve("imgs");
    List<Path> many = writeImages(dir, 60, 2);
    Path start = root.resolve("start");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> procs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-Xmx256m",
              "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
              "-cp",
              System.getProperty("java.class.path"),
              CacheWriterProcess.class.getName(),
              root.resolve("cache").toString(),
              "shared key",
              dir.toString(),
              start.toString());
      pb.redirectErrorStream(true);
      pb.redirectOutput(root.resolve("proc" + i + ".log").toFile());
      procs.add(pb.start());
    }
    Thread.sleep(500);
    Files.createFile(start);
    for (int i = 0; i < procs.size(); i++) {
      Process p = procs.get(i);
      assertTrue(p.waitFor(90, TimeUnit.SECONDS), "process " + i + " timed out");
      assertEquals(
          0,
          p.exitValue(),
          () ->
              "process failed: "
                  + readLog(root.resolve("proc0.log"))
                  + readLog(root.resolve("proc1.log")));
    }
    try (FeatureCache cache = FeatureCache.open(root.resolve("cache"), "shared key")) {
      assertEquals(0, cache.stats().discardedFiles());
      assertEquals(many.size(), cache.size());
      assertEquals(fakeFeaturize(many), cache.computeIfAbsent(many, mustNotRun()));
      try (Stream<Path> s = Files.list(cache.directory())) {
        assertTrue(
            s.noneMatch(p -> p.toString().endsWith(FeatureCache.TEMP_SUFFIX)), "no temp file left");
      }
    }
  }

  private static String readLog(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return e.toString();
    }
  }

  @Test
  void boundedMemoryPopulateThenReadInBatches() throws IOException {
    AtomicInteger maxChunk = new AtomicInteger();
    try (FeatureCache cache = FeatureCache.open(root, key()).chunkSize(4)) {
      List<String> hashes =
          cache.populate(
              images,
              batch -> {
                maxChunk.accumulateAndGet(batch.size(), Math::max);
                return fakeFeaturize(batch);
              });
      assertEquals(4, maxChunk.get());
      INDArray firstHalf = cache.rows(hashes.subList(0, 6));
      assertEquals(fakeFeaturize(images.subList(0, 6)), firstHalf);
      assertThrows(GraftException.class, () -> cache.rows(List.of("00".repeat(32))));
    }
  }
}
