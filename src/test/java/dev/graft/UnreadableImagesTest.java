package dev.graft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.SkippedFile;
import dev.graft.features.CacheRoot;
import dev.graft.features.Featurizer;
import dev.graft.head.Head;
import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import dev.graft.report.Evaluation;
import dev.graft.report.HtmlReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graft's one skip policy ({@link SkippedFile}) on real damaged files: a PNG cut in half and a PNG
 * whose pixel data is overwritten with noise sit among real digits. Evaluation (what {@code
 * evaluate} and {@code train}'s validation report run), training with validation, and the
 * featurizer, with and without its cache, leave them out, name them, and go on.
 */
class UnreadableImagesTest {
  static final List<String> LABELS = List.of("1", "4", "8");
  @TempDir static Path dir;
  static Path data;
  static Set<Path> bad;

  @BeforeAll
  static void setUp() throws Exception {
    data = TinyNets.digits(dir.resolve("data"), LABELS, 4);
    bad = damage(data);
  }

  /** Two damaged PNGs next to the real ones, in class folders "4" and "8"; returns them. */
  static Set<Path> damage(Path folder) throws Exception {
    Path real;
    try (var files = Files.list(folder.resolve("1"))) {
      real = files.sorted().findFirst().orElseThrow();
    }
    byte[] png = Files.readAllBytes(real);
    Path cut = folder.resolve("4/cut-in-half.png");
    Files.write(cut, java.util.Arrays.copyOf(png, png.length / 2));
    byte[] noisy = png.clone();
    for (int i = 60; i < noisy.length - 12; i++) {
      noisy[i] = (byte) (i * 31);
    }
    Path scrambled = folder.resolve("8/scrambled.png");
    Files.write(scrambled, noisy);
    return Set.of(cut, scrambled);
  }

  private static Base base() throws Exception {
    return TinyNets.base();
  }

  /** Every damaged file is left out, either by the folder scan or by the reader, with a reason. */
  private static void allBadLeftOut(ImageDataset scanned, List<SkippedFile> skipped) {
    List<SkippedFile> all = new ArrayList<>(scanned.skipped());
    all.addAll(skipped);
    Set<Path> left = all.stream().map(s -> s.path().toAbsolutePath()).collect(Collectors.toSet());
    for (Path b : bad) {
      assertTrue(left.contains(b.toAbsolutePath()), b + " not skipped: " + all);
    }
    all.forEach(s -> assertFalse(s.reason().isBlank(), s.toString()));
    assertFalse(skipped.isEmpty(), "the reader itself met a damaged file: " + scanned.skipped());
  }

  @Test
  void evaluationSkipsDamagedFilesAndScoresTheRest() throws Exception {
    ImageDataset ds = ImageFolder.of(data);
    TransferModel m = TinyNets.model(LABELS);
    Evaluation e = Evaluation.of(m, ds, true, null);
    allBadLeftOut(ds, e.skipped());
    assertEquals(12, e.metrics().size(), "the 12 real digits are scored");
    assertEquals(12, e.files().size());
    e.skipped().forEach(s -> assertFalse(e.files().contains(s.path())));
    String html = e.addTo(HtmlReport.builder("t"), "Evaluation").build().html();
    assertTrue(html.contains("Skipped files"), "the report says which files are not counted");
  }

  @Test
  void trainingWithDamagedValidationImagesTrainsAndReportsTheRest() throws Exception {
    Path val = TinyNets.digits(dir.resolve("val"), LABELS, 4, 3);
    damage(val);
    ImageDataset train = ImageFolder.of(TinyNets.digits(dir.resolve("train"), LABELS, 8, 4));
    ImageDataset validation = ImageFolder.of(val);
    try (Base base = base()) {
      TransferModel m =
          Graft.base(base)
              .head(Head.averagePooling())
              .epochs(2)
              .batchSize(4)
              .fit(train, validation);
      assertEquals(2, m.info().history().size());
      Evaluation e = Evaluation.of(m, validation);
      assertEquals(9, e.metrics().size());
      assertEquals(2, e.skipped().size() + validation.skipped().size(), e.skipped().toString());
    }
  }

  @Test
  void theFeaturizerSkipsDamagedFilesWithAndWithoutItsCache() throws Exception {
    ImageDataset ds = ImageFolder.of(data);
    Path cacheDir = dir.resolve("cache");
    try (Base base = base();
        Featurizer plain = Featurizer.builder(base).batchSize(4).build();
        Featurizer cached =
            Featurizer.builder(base).batchSize(4).cache(CacheRoot.at(cacheDir)).build()) {
      Featurizer.Written a = plain.write(ds, dir.resolve("plain"), null);
      allBadLeftOut(ds, a.skipped());
      assertEquals(12, a.count());
      Featurizer.Written b = cached.write(ds, dir.resolve("cached"), null);
      assertEquals(a.skipped(), b.skipped());
      assertEquals(12, b.count());
      assertEquals(12, b.computed());
      Featurizer.Written again = cached.write(ds, dir.resolve("again"), null);
      assertEquals(0, again.computed(), "the real images come from the cache");
      assertEquals(a.skipped(), again.skipped());
      assertEquals(
          Files.readString(dir.resolve("plain/labels.csv")),
          Files.readString(dir.resolve("cached/labels.csv")));
      assertEquals(13, Files.readAllLines(dir.resolve("cached/labels.csv")).size());
      for (SkippedFile s : a.skipped()) {
        assertFalse(
            Files.readString(dir.resolve("plain/labels.csv")).contains(s.path().toString()));
      }
      // pooled() returns one row per file given, so it names a damaged file instead
      Path oneBad = a.skipped().get(0).path();
      Exception strict =
          assertThrows(
              Exception.class, () -> plain.pooled(List.of(data.resolve("1/0000.png"), oneBad)));
      assertTrue(strict.getMessage().contains(oneBad.toString()), strict.getMessage());
    }
  }
}
