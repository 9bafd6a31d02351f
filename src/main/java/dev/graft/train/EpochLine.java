package dev.graft.train;

import dev.graft.strategy.Phase;
import java.util.Locale;

/**
 * The learning-rate column of the epoch log line, naming whose rate it is: a fine-tuning phase
 * trains the base and the head at different rates, and one number (the head's) read as if the base
 * learned at it.
 */
final class EpochLine {
  private EpochLine() {}

  /**
   * The rates in force at the end of an epoch, in words.
   *
   * @param phase the phase that ran the epoch
   * @param headRate the output layer's (the head's) rate at the end of the epoch
   * @return for example {@code lr head 1.00e-03 base 1.00e-04}, {@code lr head 1.00e-03} for a
   *     head-only phase, {@code lr 1.00e-04 (base and head)} when both share one rate, {@code
   *     L-BFGS (no learning rate)} for a head fitted to convergence
   */
  static String rates(Phase phase, double headRate) {
    if (phase.convex()) {
      return "L-BFGS (no learning rate)";
    }
    double max = phase.maxLearningRate();
    double min = phase.learningRates().values().stream().mapToDouble(d -> d).min().orElse(max);
    boolean headOnly = phase.name().equals("head") || phase.name().equals("warmup");
    if (headOnly) {
      return String.format(Locale.ROOT, "lr head %.2e", headRate);
    }
    if (min == max) {
      return String.format(Locale.ROOT, "lr %.2e (base and head)", headRate);
    }
    // every layer follows the same schedule shape scaled to its peak, so the ratio holds
    return String.format(Locale.ROOT, "lr head %.2e base %.2e", headRate, headRate * min / max);
  }
}
