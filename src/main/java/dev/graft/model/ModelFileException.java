package dev.graft.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A {@code .graft} file that cannot be used: not a zip, truncated, an entry missing or malformed,
 * or written in a newer format. The message names the file and what is wrong.
 */
public class ModelFileException extends IOException {
  private final transient Path file;

  /**
   * @param file the model file at fault @param problem what is wrong with it
   */
  public ModelFileException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /**
   * @param file the model file @param problem what is wrong @param cause the underlying error
   */
  public ModelFileException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The model file at fault. */
  public Path file() {
    return file;
  }
}
