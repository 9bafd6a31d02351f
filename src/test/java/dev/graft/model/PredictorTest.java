package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.data.ImageDecoder;
import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictorTest {
  @TempDir Path tmp;

  @Test
  void pathImageAndArrayAgreeAndTopKIsSorted() throws Exception {
    List<String> labels = List.of("0", "1", "2", "3");
    TransferModel m = new TransferModel(TinyNets.classifier(28, 4, 3), TinyNets.info(labels, 28));
    Path dir = TinyNets.digits(tmp, labels, 2);
    Path img = dir.resolve("2/0001.png");
    try (Predictor p = m.predictor(2)) {
      List<Prediction> fromPath = p.predict(img, 4);
      BufferedImage decoded = ImageDecoder.read(img);
      assertEquals(fromPath, p.predict(decoded, 4));
      assertEquals(fromPath, p.predict(p.transform().toChw(decoded), 4));
      assertEquals(4, fromPath.size());
      double sum = 0;
      for (int i = 0; i < fromPath.size(); i++) {
        sum += fromPath.get(i).probability();
        assertEquals(labels.get(fromPath.get(i).index()), fromPath.get(i).label());
        if (i > 0) {
          assertTrue(fromPath.get(i - 1).probability() >= fromPath.get(i).probability());
        }
      }
      assertEquals(1.0, sum, 1e-4);
      assertEquals(fromPath.subList(0, 2), p.predict(img, 2));
      assertEquals(4, p.predict(img, 10).size(), "k larger than the class count is clamped");
      assertThrows(GraftException.class, () -> p.predict(img, 0));
      assertThrows(GraftException.class, () -> p.predict(new float[7], 1));
    }
  }

  @Test
  void manyThreadsGiveExactlyTheSingleThreadResults() throws Exception {
    List<String> labels = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    TransferModel m = new TransferModel(TinyNets.classifier(28, 10, 11), TinyNets.info(labels, 28));
    Path dir = TinyNets.digits(tmp, labels, 6);
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    Predictor p = m.predictor(4);
    List<List<Prediction>> single = new ArrayList<>();
    for (Path f : files) {
      single.add(p.predict(f, 3));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<List<Prediction>>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int offset = t * 7;
        futures.add(
            pool.submit(
                () -> {
                  List<List<Prediction>> out =
                      new ArrayList<>(java.util.Collections.nCopies(files.size(), null));
                  for (int i = 0; i < files.size(); i++) {
                    int j = (i + offset) % files.size();
                    out.set(j, p.predict(files.get(j), 3));
                  }
                  return out;
                }));
      }
      for (Future<List<List<Prediction>>> f : futures) {
        assertEquals(single, f.get());
      }
    } finally {
      pool.shutdown();
    }
    // Batched prediction gives the same labels (probabilities may differ in the last bits).
    List<List<Prediction>> batched = p.predictFiles(files, 3);
    for (int i = 0; i < files.size(); i++) {
      assertEquals(single.get(i).get(0).label(), batched.get(i).get(0).label());
      assertEquals(single.get(i).get(0).probability(), batched.get(i).get(0).probability(), 1e-5);
    }
  }

  @Test
  void evaluateMatchesClassesByName() throws Exception {
    List<String> labels = List.of("3", "5", "7");
    TransferModel m = new TransferModel(TinyNets.classifier(28, 3, 5), TinyNets.info(labels, 28));
    Path dir = TinyNets.digits(tmp.resolve("a"), List.of("7", "3"), 3);
    var report = m.evaluate(dev.graft.data.ImageFolder.of(dir));
    assertEquals(6, report.size());
    assertEquals(labels, report.labels());
    int[][] cm = report.confusion();
    int fives = 0;
    for (int v : cm[1]) {
      fives += v;
    }
    assertEquals(0, fives, "no actual 5s in the test folder");
    Path other = TinyNets.digits(tmp.resolve("b"), List.of("3", "9"), 1);
    GraftException e =
        assertThrows(GraftException.class, () -> m.evaluate(dev.graft.data.ImageFolder.of(other)));
    assertTrue(e.getMessage().contains("'9'"), e.getMessage());
    assertArrayEquals(new int[] {3, 3}, dev.graft.data.ImageFolder.of(dir).classCounts());
  }

  @Test
  void closingTheCallersPredictorLeavesTheModelUsable() throws Exception {
    List<String> labels = List.of("0", "1", "2");
    TransferModel m = new TransferModel(TinyNets.classifier(28, 3, 3), TinyNets.info(labels, 28));
    Path img = TinyNets.digits(tmp, labels, 1).resolve("1/0000.png");
    List<Prediction> before = m.predict(img, 2);
    Predictor p;
    try (Predictor owned = m.predictor()) { // as the Javadoc example does
      p = owned;
      assertEquals(before, owned.predict(img, 2));
    }
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> p.predict(img, 2), "a closed predictor refuses");
    assertTrue(e.getMessage().startsWith("predictor is closed"), e.getMessage());
    assertEquals(before, m.predict(img, 2), "the model still predicts");
    assertEquals(3, m.evaluate(dev.graft.data.ImageFolder.of(tmp)).size(), "evaluate works too");
    try (Predictor again = m.predictor()) {
      assertEquals(before, again.predict(img, 2));
    }
    // a closed model speaks of the model, which is what the caller holds
    m.close();
    for (org.junit.jupiter.api.function.Executable use :
        List.<org.junit.jupiter.api.function.Executable>of(
            () -> m.predict(img, 2), m::predictor, () -> m.predictor(2))) {
      IllegalStateException closed = assertThrows(IllegalStateException.class, use);
      assertTrue(closed.getMessage().startsWith("model is closed"), closed.getMessage());
    }
  }

  /** A real graph whose first {@code failures} clones throw, as a failed allocation would. */
  @Test
  void aFailedCloneReleasesItsSlot() throws Exception {
    List<String> labels = List.of("0", "1", "2");
    ModelInfo info = TinyNets.info(labels, 28);
    Path img = TinyNets.digits(tmp, labels, 1).resolve("2/0000.png");
    java.util.concurrent.atomic.AtomicInteger failures =
        new java.util.concurrent.atomic.AtomicInteger(2);
    java.util.function.UnaryOperator<dev.graft.features.InferenceNetwork> failingCopy =
        n -> {
          if (failures.getAndDecrement() > 0) {
            throw new IllegalStateException("copy failed (test)");
          }
          return n.copy();
        };
    try (Predictor p = new Predictor(TinyNets.classifier(28, 3, 3), info, 1, failingCopy)) {
      assertThrows(IllegalStateException.class, () -> p.predict(img, 1));
      assertThrows(IllegalStateException.class, () -> p.predict(img, 1));
      // Before the fix the only slot was lost and this call blocked forever.
      List<Prediction> top =
          org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
              java.time.Duration.ofSeconds(30), () -> p.predict(img, 1));
      assertEquals(1, top.size());
    }
  }
}
