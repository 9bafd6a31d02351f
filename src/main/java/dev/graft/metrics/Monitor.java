package dev.graft.metrics;

import dev.graft.error.GraftException;
import java.util.Locale;

/**
 * The quantity that decides which epoch is best, for early stopping and for the weights a training
 * run keeps. When an epoch has no validation metrics, the training counterpart is used.
 */
public enum Monitor {
  /**
   * Validation loss, lower is better (the default: it notices over-confidence before accuracy
   * does).
   */
  VALIDATION_LOSS(false),
  /** Validation accuracy, higher is better. */
  VALIDATION_ACCURACY(true);

  private final boolean higherIsBetter;

  Monitor(boolean higherIsBetter) {
    this.higherIsBetter = higherIsBetter;
  }

  /** Whether larger values are better. */
  public boolean higherIsBetter() {
    return higherIsBetter;
  }

  /** The monitored value of {@code r}, falling back to the training metric without validation. */
  public double value(EpochRecord r) {
    return switch (this) {
      case VALIDATION_LOSS -> Double.isNaN(r.validationLoss()) ? r.trainLoss() : r.validationLoss();
      case VALIDATION_ACCURACY ->
          Double.isNaN(r.validationAccuracy()) ? r.trainAccuracy() : r.validationAccuracy();
    };
  }

  /**
   * Whether {@code candidate} is strictly better than {@code incumbent} (NaN is never better;
   * anything beats NaN).
   */
  public boolean isBetter(double candidate, double incumbent) {
    if (Double.isNaN(candidate)) {
      return false;
    }
    if (Double.isNaN(incumbent)) {
      return true;
    }
    return higherIsBetter ? candidate > incumbent : candidate < incumbent;
  }

  /**
   * Parses a monitor name as the command line spells it: {@code val_loss}, {@code val_accuracy}
   * (also {@code loss}, {@code accuracy}, {@code val_acc}).
   *
   * @throws GraftException naming the value when it is none of those
   */
  public static Monitor named(String name) {
    return switch (name.toLowerCase(Locale.ROOT).replace('-', '_')) {
      case "val_loss", "validation_loss", "loss" -> VALIDATION_LOSS;
      case "val_accuracy", "val_acc", "validation_accuracy", "accuracy", "acc" ->
          VALIDATION_ACCURACY;
      default ->
          throw new GraftException(
              "unknown monitor: '" + name + "' (expected val_loss or val_accuracy)");
    };
  }
}
