package dev.graft.train;

import dev.graft.metrics.Monitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends training when the monitored metric has not improved for {@code patience} epochs of a phase
 * that allows it ({@link dev.graft.strategy.Phase#earlyStopping()}); needs validation data. Runs
 * after {@link BestEpoch}, which counts the epochs since the best.
 */
final class EarlyStopping implements EpochHook {
  private static final Logger log = LoggerFactory.getLogger(Trainer.class);
  private final int patience;
  private final Monitor monitor;

  EarlyStopping(int patience, Monitor monitor) {
    this.patience = patience;
    this.monitor = monitor;
  }

  @Override
  public void onEpochEnd(TrainingState st, EpochEnd end) {
    if (end.phase().earlyStopping() && patience > 0 && st.sinceBest >= patience) {
      log.info(
          "early stopping after epoch {}: no better {} for {} epochs (best: epoch {})",
          end.record().epoch(),
          monitor,
          st.sinceBest,
          st.bestEpoch);
      st.stoppedEarly = true;
    }
  }
}
