package dev.graft.train;

import dev.graft.error.GraftException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how a training run keeps its checkpoint. At the end of every epoch the loop replaces
 * {@code file} atomically with the state the rest of the run depends on (see {@link Trainer}); with
 * {@code resume}, a run finding a checkpoint whose {@link Fingerprint} matches continues from it
 * and finishes with exactly the model an uninterrupted run makes (on the CPU, same thread count).
 *
 * @param file the checkpoint file (replaced at each epoch's end)
 * @param resume whether to continue from {@code file} when it exists (without it, an existing file
 *     is overwritten)
 * @param fingerprint the settings and data of this run; a checkpoint with another one is refused
 */
public record Checkpointing(Path file, boolean resume, Fingerprint fingerprint) {

  /** Validates. */
  public Checkpointing {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(fingerprint, "fingerprint");
    if (file.getFileName() == null) {
      throw new GraftException("checkpoint file has no name: " + file);
    }
  }
}
