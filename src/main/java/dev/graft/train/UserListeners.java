package dev.graft.train;

import dev.graft.strategy.Phase;
import java.util.List;

/** Forwards the loop's events to the {@link TrainingListener}s of the configuration. */
final class UserListeners implements EpochHook {
  private final List<TrainingListener> listeners;

  UserListeners(List<TrainingListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public void onPhaseStart(TrainingState st, Phase phase, PhaseRunner runner, boolean continuing) {
    listeners.forEach(l -> l.onPhaseStart(phase, runner.cached()));
  }

  @Override
  public void onEpochEnd(TrainingState st, EpochEnd end) {
    listeners.forEach(l -> l.onEpochEnd(end.record(), st.history));
  }
}
