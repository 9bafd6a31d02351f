package dev.graft.train;

import dev.graft.metrics.EpochRecord;
import dev.graft.strategy.Phase;

/**
 * One concern of the training loop (progress, the best epoch, early stopping, checkpoints, the
 * user's listeners), told about each phase start and epoch end, in the order {@link Trainer} lists
 * them; each reads and updates the run's {@link TrainingState}. The loop itself only trains and
 * validates.
 */
interface EpochHook {

  /**
   * A phase starts (or continues after a resume).
   *
   * @param st the run's state
   * @param phase the phase
   * @param runner its runner, network built
   * @param continuing whether the phase continues from a checkpoint rather than starting
   */
  default void onPhaseStart(
      TrainingState st, Phase phase, PhaseRunner runner, boolean continuing) {}

  /**
   * An epoch ended: {@code st.history} holds its record, {@code st.epoch} counts it.
   *
   * @param st the run's state
   * @param end what the epoch produced
   */
  void onEpochEnd(TrainingState st, EpochEnd end);

  /**
   * What an epoch produced.
   *
   * @param phase the phase it belongs to
   * @param runner the phase's runner
   * @param record its record (losses, accuracies, rate, seconds)
   * @param validation validation outputs, or null without validation data
   */
  record EpochEnd(
      Phase phase, PhaseRunner runner, EpochRecord record, PhaseRunner.Validation validation) {}
}
