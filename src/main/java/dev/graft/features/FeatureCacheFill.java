package dev.graft.features;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver behind {@link FeatureCache#populate}: hashes every image, then featurizes the missing
 * ones a chunk at a time and publishes each chunk before asking for the next. Because each chunk
 * reaches the disk as a complete segment, a run killed at any moment loses at most the chunk in
 * flight, and a rerun computes only what is missing. Before each chunk the directory is scanned
 * again, so entries another process has published meanwhile are not recomputed.
 */
final class FeatureCacheFill {
  private static final Logger log = LoggerFactory.getLogger(FeatureCacheFill.class);

  /**
   * Test seam: milliseconds to sleep after each published chunk, so that a test can kill a real
   * process between two chunks. Unset (the default) never sleeps.
   */
  static final String TEST_PAUSE_PROPERTY = "graft.test.pause-after-chunk-ms";

  private FeatureCacheFill() {}

  private static void pauseForTest() {
    long ms = Long.getLong(TEST_PAUSE_PROPERTY, 0L);
    if (ms > 0) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * What one fill did.
   *
   * @param hashes each image's content hash, in input order
   * @param computed images featurized (the rest were cached)
   */
  record Counts(List<String> hashes, long computed) {}

  static Counts run(
      FeatureCache cache,
      List<Path> images,
      Function<List<Path>, INDArray> featurizer,
      IntConsumer progress,
      int chunkSize)
      throws IOException {
    List<String> hashes = new ArrayList<>(images.size());
    LinkedHashMap<String, Path> missing = new LinkedHashMap<>();
    for (Path image : images) {
      String h = ContentHash.of(image);
      hashes.add(h);
      if (!cache.contains(h)) {
        missing.putIfAbsent(h, image);
      }
    }
    if (!missing.isEmpty()) {
      cache.refresh();
    }
    List<Map.Entry<String, Path>> todo = new ArrayList<>(missing.entrySet());
    int cachedBefore = images.size() - todo.size();
    long computed = 0;
    for (int from = 0; from < todo.size(); from += chunkSize) {
      if (from > 0) {
        cache.refresh();
      }
      List<String> chunkHashes = new ArrayList<>();
      List<Path> chunkPaths = new ArrayList<>();
      for (Map.Entry<String, Path> e :
          todo.subList(from, Math.min(todo.size(), from + chunkSize))) {
        if (!cache.contains(e.getKey())) {
          chunkHashes.add(e.getKey());
          chunkPaths.add(e.getValue());
        }
      }
      if (!chunkPaths.isEmpty()) {
        INDArray out = featurizer.apply(List.copyOf(chunkPaths));
        if (out == null || out.rank() < 2 || out.size(0) != chunkPaths.size()) {
          throw new GraftException(
              "featurizer returned "
                  + (out == null ? "null" : Arrays.toString(out.shape()))
                  + " for "
                  + chunkPaths.size()
                  + " images; expected one row per image");
        }
        cache.putAll(chunkHashes, out);
        if (out.closeable()) {
          out.close(); // written to disk: release native memory now, so memory stays bounded
        }
        computed += chunkPaths.size();
        pauseForTest();
      }
      if (progress != null) {
        progress.accept(cachedBefore + Math.min(todo.size(), from + chunkSize));
      }
    }
    if (progress != null) {
      progress.accept(images.size());
    }
    if (computed > 0) {
      log.info(
          "feature cache {}: {} of {} images featurized, the rest read from cache",
          cache.directory().getFileName(),
          computed,
          images.size());
    }
    return new Counts(hashes, computed);
  }
}
