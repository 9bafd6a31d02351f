package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.data.SkippedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FilePredictions}: real digit PNGs and an unreadable file through a real network, across
 * more than one decode-ahead batch; the predictions are those of the predictor's own paths.
 */
class FilePredictionsTest {
  @TempDir Path tmp;

  @Test
  void predictsInOrderAcrossBatchesAndSkipsWhatCannotBeRead() throws Exception {
    List<String> labels = List.of("0", "1", "2");
    TransferModel m = TinyNets.model(labels);
    Path dir = TinyNets.digits(tmp.resolve("d"), labels, 12); // 36 files: two batches of 32
    List<Path> files = new ArrayList<>();
    for (String l : labels) {
      try (var s = Files.list(dir.resolve(l))) {
        files.addAll(s.sorted().toList());
      }
    }
    Path bad = Files.writeString(tmp.resolve("bad.png"), "not an image");
    List<Path> mixed = new ArrayList<>(files);
    mixed.add(5, bad);
    try (Predictor p = m.predictor()) {
      List<Integer> progress = new ArrayList<>();
      FilePredictions r = FilePredictions.of(p, mixed, 2, false, true, progress::add);
      assertEquals(files, r.files());
      // the batches are cut differently around the skipped file: equal up to float rounding
      assertClose(p.predictAll(files, 2), r.predictions());
      assertEquals(1, r.skipped().size());
      SkippedFile s = r.skipped().get(0);
      assertEquals(bad, s.path());
      assertTrue(!s.reason().isBlank() && !s.reason().contains("\n"), s.reason());
      assertEquals(List.of(32, 37), progress, "files handled after each batch");

      FilePredictions tta = FilePredictions.of(p, files, 3, true, true, null);
      assertClose(
          TestTimeAugmentation.standard().predictImages(p, decoded(files), 3), tta.predictions());

      IOException strict =
          assertThrows(
              IOException.class, () -> FilePredictions.of(p, mixed, 2, false, false, null));
      assertTrue(strict.getMessage().startsWith("cannot read image " + bad), strict.getMessage());
    }
  }

  private static void assertClose(List<List<Prediction>> want, List<List<Prediction>> got) {
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i).size(), got.get(i).size());
      for (int k = 0; k < want.get(i).size(); k++) {
        Prediction w = want.get(i).get(k);
        Prediction g = got.get(i).get(k);
        assertEquals(w.index(), g.index(), "file " + i);
        assertEquals(w.probability(), g.probability(), 1e-5, "file " + i);
      }
    }
  }

  private static List<java.awt.image.BufferedImage> decoded(List<Path> files) throws IOException {
    List<java.awt.image.BufferedImage> out = new ArrayList<>();
    for (Path f : files) {
      out.add(dev.graft.data.ImageDecoder.read(f));
    }
    return out;
  }
}
