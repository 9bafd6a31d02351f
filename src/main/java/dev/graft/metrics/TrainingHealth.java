package dev.graft.metrics;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An early warning that training is stuck: after the first epochs the loss stays near that of a
 * saturated softmax, or the training accuracy stays at chance. Both are what a head on a base with
 * random weights, or fed images preprocessed for another base, or trained at far too high a rate,
 * looks like; without a warning such a run fails silently. The log ({@code
 * dev.graft.train.TrainingWarnings}) and the HTML report ({@code dev.graft.report.HtmlReport}) use
 * this one check, so they say the same thing.
 *
 * <pre>{@code
 * TrainingHealth.warning(model.info().history().epochs(), model.labels().size())
 *     .ifPresent(System.out::println);
 * }</pre>
 */
public final class TrainingHealth {
  /** The check looks at epochs 2 and 3: the first epoch of a fresh head is allowed to be bad. */
  public static final int CHECKED_EPOCH = 3;

  /**
   * How far above chance's loss ln(K) a loss must sit to read as saturated: ln(100), the true class
   * getting a hundredth of a uniform guess's probability on average.
   */
  static final double SATURATION_MARGIN = Math.log(100);

  /** Accuracy up to chance (1/K) plus this margin reads as chance. */
  static final double CHANCE_MARGIN = 0.05;

  private TrainingHealth() {}

  /**
   * The warning for a run's epochs, if epochs 2 and 3 both look stuck.
   *
   * @param epochs the run's epochs, oldest first
   * @param classes the number of classes (below 2: never a warning)
   * @return one line saying what was seen and the likely causes, or empty
   */
  public static Optional<String> warning(List<EpochRecord> epochs, int classes) {
    if (classes < 2 || epochs.size() < CHECKED_EPOCH) {
      return Optional.empty();
    }
    EpochRecord a = epochs.get(CHECKED_EPOCH - 2);
    EpochRecord b = epochs.get(CHECKED_EPOCH - 1);
    double chanceLoss = Math.log(classes);
    double chanceAcc = 1.0 / classes;
    String seen;
    if (saturated(a, chanceLoss) && saturated(b, chanceLoss)) {
      seen =
          String.format(
              Locale.ROOT,
              "training loss %.2f after epoch %d (a uniform guess scores %.2f, a saturated softmax"
                  + " 23.03)",
              b.trainLoss(),
              b.epoch(),
              chanceLoss);
    } else if (atChance(a, chanceLoss, chanceAcc) && atChance(b, chanceLoss, chanceAcc)) {
      seen =
          String.format(
              Locale.ROOT,
              "training accuracy %.3f after epoch %d, chance is %.3f (loss %.3f, a uniform guess"
                  + " scores %.3f)",
              b.trainAccuracy(),
              b.epoch(),
              chanceAcc,
              b.trainLoss(),
              chanceLoss);
    } else {
      return Optional.empty();
    }
    return Optional.of(
        "training looks stuck: "
            + seen
            + ". Likely causes: a base with random weights (Weights.none(), --weights none);"
            + " preprocessing that does not match the weights (--preprocess); a learning rate far"
            + " too high (try 10x lower, or find one: graft lr-find, findLearningRate).");
  }

  private static boolean saturated(EpochRecord e, double chanceLoss) {
    return e.trainLoss() >= chanceLoss + SATURATION_MARGIN;
  }

  private static boolean atChance(EpochRecord e, double chanceLoss, double chanceAcc) {
    return e.trainAccuracy() <= chanceAcc + CHANCE_MARGIN && e.trainLoss() >= 0.95 * chanceLoss;
  }
}
