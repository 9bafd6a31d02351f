package dev.graft.train;

import java.nio.file.Path;

/**
 * Training stopped at a safe point because a {@link StopSignal} asked it to. Nothing of the
 * unfinished epoch is kept; the last checkpoint (the state at the end of {@link
 * #checkpointedEpochs()} epochs) is, so that a run with {@code resume} continues from there.
 */
public final class TrainingStoppedException extends RuntimeException {
  private final int checkpointedEpochs;
  private final transient Path checkpoint;

  /**
   * A stop.
   *
   * @param checkpointedEpochs epochs the last checkpoint holds (0: none)
   * @param checkpoint the checkpoint file, or null without checkpointing
   */
  public TrainingStoppedException(int checkpointedEpochs, Path checkpoint) {
    super(
        "training stopped"
            + (checkpoint == null
                ? " (no checkpoint)"
                : checkpointedEpochs == 0
                    ? " before the first epoch ended (no checkpoint yet)"
                    : "; checkpoint of epoch " + checkpointedEpochs + " kept at " + checkpoint));
    this.checkpointedEpochs = checkpointedEpochs;
    this.checkpoint = checkpoint;
  }

  /** Epochs the last checkpoint holds (0 when there is none). */
  public int checkpointedEpochs() {
    return checkpointedEpochs;
  }

  /** The checkpoint file, or null without checkpointing. */
  public Path checkpoint() {
    return checkpoint;
  }
}
