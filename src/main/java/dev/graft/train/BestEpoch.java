package dev.graft.train;

import dev.graft.metrics.Monitor;
import dev.graft.strategy.Phase;

/**
 * Keeps the best epoch by the monitored metric: its number and value, the epochs since it, and
 * (with validation data) its weights and validation outputs, which the loop restores at the end.
 */
final class BestEpoch implements EpochHook {
  private final Monitor monitor;
  private final boolean validation;
  private final ParameterSnapshots snapshots;

  BestEpoch(Monitor monitor, boolean validation, ParameterSnapshots snapshots) {
    this.monitor = monitor;
    this.validation = validation;
    this.snapshots = snapshots;
  }

  @Override
  public void onPhaseStart(TrainingState st, Phase phase, PhaseRunner runner, boolean continuing) {
    if (!continuing) {
      st.sinceBest = 0; // each phase gets its own patience
    }
  }

  @Override
  public void onEpochEnd(TrainingState st, EpochEnd end) {
    double value = monitor.value(end.record());
    if (st.bestEpoch < 0 || monitor.isBetter(value, st.bestValue)) {
      st.bestValue = value;
      st.bestEpoch = end.record().epoch();
      st.sinceBest = 0;
      if (validation) {
        st.best = snapshots.take(end.runner().net());
        st.bestLabels = end.validation() == null ? null : end.validation().labels();
        st.bestProbabilities = end.validation() == null ? null : end.validation().probabilities();
      }
    } else {
      st.sinceBest++;
    }
  }
}
