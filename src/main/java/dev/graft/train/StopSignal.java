package dev.graft.train;

/**
 * Asks a running training loop to stop at its next safe point (the end of the current minibatch):
 * the loop then throws {@link TrainingStoppedException}, and the last checkpoint (if checkpointing
 * is on) stays on disk for a resumed run. Thread-safe; a signal handler or another thread may call
 * {@link #request()}.
 *
 * <pre>{@code
 * StopSignal stop = new StopSignal();
 * Runtime.getRuntime().addShutdownHook(new Thread(stop::request));
 * Graft.base(base).stopSignal(stop).checkpoint(Path.of("run.ckpt")).fit(train, validation);
 * }</pre>
 */
public final class StopSignal {
  private volatile boolean requested;

  /** Asks the loop to stop at its next safe point. */
  public void request() {
    requested = true;
  }

  /** Whether a stop was requested. */
  public boolean isRequested() {
    return requested;
  }

  /** Throws {@link TrainingStoppedException} when a stop was requested. */
  void check(int epochsCheckpointed, java.nio.file.Path checkpoint) {
    if (requested) {
      throw new TrainingStoppedException(epochsCheckpointed, checkpoint);
    }
  }
}
