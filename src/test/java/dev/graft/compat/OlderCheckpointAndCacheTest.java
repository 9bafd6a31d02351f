package dev.graft.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.Graft;
import dev.graft.TransferBuilder;
import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.features.CacheRoot;
import dev.graft.features.Featurizer;
import dev.graft.head.Head;
import dev.graft.model.Predictor;
import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.Strategy;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A checkpoint, a training run's on-disk activation cache and a featurizer's cache written by Graft
 * before issue 25's run description (commit a826145, {@code compat/a826145/}) still serve the
 * current Graft: the checkpoint resumes to the result the uninterrupted run had then, and both
 * caches are found under the same keys (no entry computed again, no new cache directory).
 *
 * <p>The fixtures came from one run at a826145: a tiny CNN (TinyNets.classifier(28, 5, 1), cut at
 * {@code fc}) fine-tuned (last 2 layers, 4 epochs, batch 4, seed 5, head averagePooling().dense(8))
 * on the 12 digits below, the activations on disk; once uninterrupted (its probabilities are {@code
 * tiny-a826145-full.csv}) and once stopped after epoch 2 ({@code tiny-a826145.ckpt}); then a
 * featurizer (batch 4) over the same images with its cache ({@code tiny-a826145-features.csv}).
 */
class OlderCheckpointAndCacheTest {
  /** Relative on purpose: the checkpoint fingerprints image paths as the run saw them. */
  private static final Path DATA = Path.of("target/compat-data");

  @TempDir static Path tmp;
  static Base base;
  static ImageDataset train;

  @BeforeAll
  static void setUp() throws Exception {
    deleteTree(DATA);
    TinyNets.digits(DATA, List.of("1", "4", "8"), 0, 4);
    ImageDataset folder = ImageFolder.of(DATA);
    train = ImageDataset.of(folder.labels(), folder.samples()); // no source: as the run had it
    base = TinyNets.base();
  }

  private static TransferBuilder builder(Path activations) {
    return Graft.base(base)
        .head(Head.averagePooling().dense(8))
        .batchSize(4)
        .seed(5)
        .strategy(Strategy.fineTune().unfreezeLast(2))
        .epochs(4)
        .activationCache(ActivationCache.onDisk(activations));
  }

  @Test
  void anOlderCheckpointResumesToTheOlderResultThroughTheOlderActivationCache() throws Exception {
    Path activations = copy("activations", tmp.resolve("activations"));
    Set<String> keysBefore = cacheDirectories(activations);
    Path ckpt = copy("tiny-a826145.ckpt", tmp.resolve("tiny.ckpt"));

    TransferModel resumed = builder(activations).checkpoint(ckpt).resume(true).fit(train, null);

    assertEquals(2, resumed.info().provenance().resumedFromEpoch());
    assertEquals(
        keysBefore,
        cacheDirectories(activations),
        "the activation cache key is byte-identical: no new cache directory");
    try (Predictor p = resumed.predictor()) {
      for (String line : lines("tiny-a826145-full.csv")) {
        String[] f = line.split(",");
        float[] got = p.probabilities(List.of(DATA.resolve(f[0])), null)[0];
        for (int c = 0; c < got.length; c++) {
          assertEquals(Float.parseFloat(f[c + 1]), got[c], 1e-5, line);
        }
      }
    }
  }

  @Test
  void anOlderFeatureCacheServesEveryImageWithoutAForwardPass() throws Exception {
    Path features = copy("features", tmp.resolve("features"));
    Set<String> keysBefore = cacheDirectories(features);
    List<String> expected = lines("tiny-a826145-features.csv");
    try (Featurizer f =
        Featurizer.builder(base).batchSize(4).cache(CacheRoot.at(features)).build()) {
      List<Path> files =
          expected.stream().map(l -> DATA.resolve(l.substring(0, l.indexOf(',')))).toList();
      INDArray x = f.pooled(files);
      assertEquals(0, f.forwardImages(), "every image read from the older cache");
      for (int r = 0; r < expected.size(); r++) {
        String[] v = expected.get(r).split(",");
        assertEquals(v.length - 1, x.columns());
        for (int c = 0; c < x.columns(); c++) {
          assertEquals(Float.parseFloat(v[c + 1]), x.getFloat(r, c), 1e-6, expected.get(r));
        }
      }
    }
    assertEquals(keysBefore, cacheDirectories(features));
  }

  private static Set<String> cacheDirectories(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root.resolve("features-v1"))) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  private static List<String> lines(String resource) throws IOException {
    try (InputStream in = resource("compat/a826145/" + resource)) {
      return List.of(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip().split("\n"));
    }
  }

  private static InputStream resource(String name) {
    return OlderCheckpointAndCacheTest.class.getResourceAsStream("/" + name);
  }

  /** Copies a fixture file or folder from the test classpath to {@code to}. */
  private static Path copy(String name, Path to) throws IOException, URISyntaxException {
    Path from =
        Path.of(OlderCheckpointAndCacheTest.class.getResource("/compat/a826145/" + name).toURI());
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(p, target);
        }
      }
    }
    return to;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
