package dev.graft.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The per-epoch record of a training run, in epoch order, and which epoch was best by its {@link
 * Monitor}. The training loop appends; the report plots; the model file stores it.
 *
 * <p>Not thread-safe: one training run writes it from one thread.
 */
public final class History {
  private final List<EpochRecord> epochs = new ArrayList<>();
  private final Monitor monitor;

  /** An empty history whose best epoch is the one with the lowest validation loss. */
  public History() {
    this(Monitor.VALIDATION_LOSS);
  }

  /** An empty history whose best epoch is decided by {@code monitor}. */
  public History(Monitor monitor) {
    this.monitor = monitor == null ? Monitor.VALIDATION_LOSS : monitor;
  }

  /** A history holding {@code records} (for example read back from a model file). */
  public static History of(List<EpochRecord> records, Monitor monitor) {
    History h = new History(monitor);
    records.forEach(h::add);
    return h;
  }

  /** The records, oldest first (an unmodifiable snapshot). */
  public List<EpochRecord> epochs() {
    return Collections.unmodifiableList(new ArrayList<>(epochs));
  }

  /** The monitor that picks {@link #bestEpoch()}. */
  public Monitor monitor() {
    return monitor;
  }

  /** Appends the record of the epoch that just finished. */
  public void add(EpochRecord r) {
    epochs.add(r);
  }

  /** Number of epochs recorded. */
  public int size() {
    return epochs.size();
  }

  /**
   * The epoch number ({@link EpochRecord#epoch()}) that is best by the monitor; the earliest one on
   * ties; -1 when the history is empty.
   */
  public int bestEpoch() {
    return best().map(EpochRecord::epoch).orElse(-1);
  }

  /** The best record by the monitor, if any epoch was recorded. */
  public Optional<EpochRecord> best() {
    EpochRecord best = null;
    for (EpochRecord r : epochs) {
      if (best == null || monitor.isBetter(monitor.value(r), monitor.value(best))) {
        best = r;
      }
    }
    return Optional.ofNullable(best);
  }

  /** The last record, if any. */
  public Optional<EpochRecord> last() {
    return epochs.isEmpty() ? Optional.empty() : Optional.of(epochs.get(epochs.size() - 1));
  }

  /**
   * The history as CSV with a header line: epoch, train_loss, train_accuracy, val_loss,
   * val_accuracy, learning_rate, seconds (empty cells for missing validation values).
   */
  public String toCsv() {
    StringBuilder sb =
        new StringBuilder(
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n");
    for (EpochRecord r : epochs) {
      sb.append(r.epoch())
          .append(',')
          .append(cell(r.trainLoss()))
          .append(',')
          .append(cell(r.trainAccuracy()))
          .append(',')
          .append(cell(r.validationLoss()))
          .append(',')
          .append(cell(r.validationAccuracy()))
          .append(',')
          .append(cell(r.learningRate()))
          .append(',')
          .append(cell(r.seconds()))
          .append('\n');
    }
    return sb.toString();
  }

  private static String cell(double v) {
    return Double.isNaN(v) ? "" : Double.toString(v);
  }

  @Override
  public String toString() {
    return "History(" + epochs.size() + " epochs, best=" + bestEpoch() + " by " + monitor + ")";
  }
}
