package dev.graft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.data.ImageFolder;
import dev.graft.data.Split;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import dev.graft.testing.StdErr;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each strategy means one thing, and the log and the saved settings say the same: frozen trains a
 * head by Adam epochs (the base's default head when none is given), features fits a logistic
 * regression to convergence and claims no learning rate, and no fit reads "0 iterations".
 */
class OneMeaningPerStrategyTest {
  @TempDir static Path dir;
  static Split split;
  static Base base;

  @BeforeAll
  static void setUp() throws Exception {
    Digits.data().extract(dir.resolve("digits"), List.of(5, 6), 0, 12);
    split = ImageFolder.of(dir.resolve("digits")).split(0.75, 42);
    base = SmallNets.pretrainedBase();
  }

  @Test
  void frozenWithoutAHeadTrainsTheBasesDefaultHeadByAdam() throws Exception {
    StdErr.Captured<TransferModel> run =
        StdErr.capture(
            () ->
                Graft.base(base)
                    .strategy(Strategy.frozen())
                    .epochs(3)
                    .fit(split.train(), split.validation()));
    Map<String, String> settings = run.value().info().settings();
    assertEquals(base.defaultHead().describe(), settings.get("head"), settings.toString());
    assertFalse(settings.get("head").contains("L-BFGS"), settings.toString());
    assertEquals("frozen base, head at Adam 0.001", settings.get("strategy"));
    assertEquals("0.001", settings.get("learningRate"));
    assertEquals(3, run.value().info().history().size(), "three Adam epochs");
  }

  @Test
  void featuresFitsALogisticRegressionAndClaimsNoRate() {
    TransferModel m =
        Graft.base(base)
            .strategy(Strategy.features())
            .learningRate(0.05) // an Adam rate: must not be claimed for an L-BFGS fit
            .fit(split.train(), split.validation());
    // the log line "training <head> on <base> with <strategy>" prints these same two strings
    Map<String, String> settings = m.info().settings();
    assertEquals("feature extraction", settings.get("strategy"), settings.toString());
    assertTrue(settings.get("head").contains("fitted by L-BFGS"), settings.toString());
    assertFalse(settings.containsKey("learningRate"), settings.toString());
    assertFalse(settings.get("solverIterations").equals("0"), settings.toString());
    // the epoch line's rate column (EpochLineTest) and the solver's line
    // (SoftmaxRegressionTest#theFinalFitIsNeverZeroIterations) say the same
  }
}
