package dev.graft.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A second process for {@link FeatureCacheTest}: waits for a start file, then fills the cache for
 * every image in a folder with a slow, deterministic featurizer, and checks what it reads. Args:
 * cacheRoot key imagesDir startFile.
 */
public final class CacheWriterProcess {
  private CacheWriterProcess() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Path root = Path.of(args[0]);
    String key = args[1];
    List<Path> images;
    try (Stream<Path> s = Files.list(Path.of(args[2]))) {
      images = s.sorted().toList();
    }
    Path start = Path.of(args[3]);
    long deadline = System.currentTimeMillis() + 60_000;
    while (!Files.exists(start) && System.currentTimeMillis() < deadline) {
      Thread.sleep(5);
    }
    try (FeatureCache cache = FeatureCache.open(root, key).chunkSize(7)) {
      INDArray out = cache.computeIfAbsent(images, FeatureCacheTest::slowFeaturize);
      INDArray expected = FeatureCacheTest.fakeFeaturize(images);
      if (!out.equals(expected)) {
        System.err.println("features differ from expected");
        System.exit(3);
      }
    }
    System.exit(0);
  }
}
