package dev.graft.train;

import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.strategy.Phase;

/**
 * Callbacks from the training loop, on the training thread. All methods default to nothing.
 *
 * <pre>{@code
 * Graft.base(base).listener(new TrainingListener() {
 *   public void onEpochEnd(EpochRecord r, History h) { progressBar.set(r.epoch()); }
 * }).fit(train, validation);
 * }</pre>
 */
public interface TrainingListener {

  /**
   * A phase starts.
   *
   * @param phase the phase
   * @param cached whether it trains on cached frozen activations
   */
  default void onPhaseStart(Phase phase, boolean cached) {}

  /**
   * The run resumed from a checkpoint: {@code epochs} epochs are done already and {@code history}
   * holds them; the next {@link #onEpochEnd} is epoch {@code epochs + 1}.
   */
  default void onResume(int epochs, History history) {}

  /** An epoch ended; {@code history} already holds {@code record}. */
  default void onEpochEnd(EpochRecord record, History history) {}

  /**
   * Training ended.
   *
   * @param history every epoch
   * @param restoredEpoch the epoch whose weights the network now holds
   * @param stoppedEarly whether early stopping ended training
   */
  default void onTrainingEnd(History history, int restoredEpoch, boolean stoppedEarly) {}
}
