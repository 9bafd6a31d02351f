package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.head.Head;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.metrics.TrainingHealth;
import dev.graft.model.TransferModel;
import dev.graft.report.HtmlReport;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import dev.graft.testing.StdErr;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The early warning that training is stuck: the pure check on epoch records, and a real run of a
 * head on a random-weight base fed raw 0-255 pixels, which saturates its softmax and must say so
 * once in the log and in the report.
 */
class TrainingWarningsTest {
  @TempDir Path dir;

  private static List<EpochRecord> epochs(double[] loss, double[] acc) {
    List<EpochRecord> r = new ArrayList<>();
    for (int i = 0; i < loss.length; i++) {
      r.add(new EpochRecord(i + 1, loss[i], acc[i], Double.NaN, Double.NaN, 1e-3, 0.1));
    }
    return r;
  }

  @Test
  void saturatedLossAndChanceAccuracyWarnHealthyRunsDoNot() {
    String saturated =
        TrainingHealth.warning(
                epochs(new double[] {14, 13.2, 13.1}, new double[] {0.5, 0.52, 0.55}), 2)
            .orElseThrow();
    assertTrue(saturated.contains("training loss 13.10 after epoch 3"), saturated);
    assertTrue(saturated.contains("random weights") && saturated.contains("preprocessing"));
    assertTrue(saturated.contains("learning rate"), saturated);

    String chance =
        TrainingHealth.warning(
                epochs(new double[] {2.4, 2.31, 2.30}, new double[] {0.1, 0.11, 0.1}), 10)
            .orElseThrow();
    assertTrue(chance.contains("chance is 0.100"), chance);

    // learning: loss below chance's, accuracy above it
    assertTrue(
        TrainingHealth.warning(
                epochs(new double[] {0.9, 0.6, 0.4}, new double[] {0.55, 0.7, 0.85}), 2)
            .isEmpty());
    // a bad first epoch, or only one bad epoch among 2 and 3, is not "stays"
    assertTrue(
        TrainingHealth.warning(
                epochs(new double[] {20, 0.6, 0.4}, new double[] {0.5, 0.7, 0.85}), 2)
            .isEmpty());
    assertTrue(
        TrainingHealth.warning(epochs(new double[] {1, 15, 0.4}, new double[] {0.5, 0.5, 0.85}), 2)
            .isEmpty());
    // too early to tell
    assertTrue(
        TrainingHealth.warning(epochs(new double[] {20, 20}, new double[] {0.5, 0.5}), 2)
            .isEmpty());
  }

  @Test
  void aRandomBaseOnRawPixelsWarnsOnceInTheLogAndInTheReport() throws Exception {
    Digits.data().extract(dir.resolve("train"), List.of(3, 7), 0, 12);
    ImageDataset train = ImageFolder.of(dir.resolve("train"));
    var base =
        Bases.fromGraph("random", SmallNets.cnn(2, 28, 7))
            .inputSize(28)
            .preprocessing(Preprocessing.none()) // 0-255: features far too large for the head
            .cut("relu3")
            .load();
    StdErr.Captured<TransferModel> run =
        StdErr.capture(
            () ->
                Graft.base(base)
                    .head(Head.flatten())
                    .strategy(Strategy.frozen())
                    .epochs(4)
                    .fit(train, null));
    String log = run.text();
    long warnings = log.lines().filter(l -> l.contains("training looks stuck")).count();
    assertEquals(1, warnings, log);
    assertTrue(log.contains("WARN dev.graft.train.TrainingWarnings"), log);

    History history = run.value().info().history();
    String html = HtmlReport.builder("t").learningCurves("Curves", history, 2).build().html();
    assertTrue(
        html.contains("Training looks stuck") || html.contains("softmax is saturated"), html);
    assertTrue(html.contains("random weights"), html);
  }
}
