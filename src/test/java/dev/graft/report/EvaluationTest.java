package dev.graft.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.metrics.ClassificationReport;
import dev.graft.model.LabelledFiles;
import dev.graft.model.Predictor;
import dev.graft.model.TestTimeAugmentation;
import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Evaluation} on real digit images and a real network: the same numbers as the predictor and
 * {@link ClassificationReport} give by hand, with and without test-time augmentation, and the
 * report sections it adds.
 */
class EvaluationTest {
  @TempDir Path tmp;

  @Test
  void matchesThePredictorAndAddsItsSections() throws Exception {
    List<String> labels = List.of("0", "1", "2");
    TransferModel m = TinyNets.model(labels);
    ImageDataset data = ImageFolder.of(TinyNets.digits(tmp.resolve("d"), labels, 4));
    LabelledFiles lf = LabelledFiles.of(data, m.labels());
    float[][] plain;
    float[][] averaged;
    try (Predictor p = m.predictor()) {
      plain = p.probabilities(lf.files(), null);
      averaged = TestTimeAugmentation.standard().probabilities(p, lf.files(), null);
    }

    Evaluation e = Evaluation.of(m, data);
    assertEquals(lf.files(), e.files());
    assertArrayEquals(lf.actual(), e.actual());
    assertArrayEquals(plain, e.probabilities());
    assertEquals(
        ClassificationReport.of(labels, lf.actual(), plain).logLoss(), e.metrics().logLoss());
    assertTrue(e.singleView().isEmpty());
    assertEquals(12, e.interpretation().topLosses(12).size());

    List<String> passes = new ArrayList<>();
    Evaluation t =
        Evaluation.of(
            m,
            data,
            true,
            (pass, done, total) -> {
              if (!passes.contains(pass)) {
                passes.add(pass);
              }
              assertEquals(12, total);
            });
    assertEquals(List.of("evaluating", "evaluating with TTA"), passes);
    assertArrayEquals(averaged, t.probabilities());
    assertEquals(e.metrics().logLoss(), t.singleView().orElseThrow().logLoss());
    assertNotEquals(e.metrics().logLoss(), t.metrics().logLoss());

    String html = t.addTo(HtmlReport.builder("t"), "Evaluation here").build().html();
    assertTrue(html.contains("Test-time augmentation"), "TTA table");
    assertTrue(html.contains("Evaluation here"));
    assertTrue(html.contains("Interpretation: what went wrong"));
    assertTrue(html.contains("Grad-CAM"), "the tiny CNN's head reads a feature map");
  }
}
