package dev.graft.cli;

/**
 * Bad usage or bad input found by a command (exit code 2): the message is one line that names the
 * flag or file at fault, e.g. {@code --data: no such directory: photos}.
 */
public final class BadInputException extends RuntimeException {
  /**
   * @param message one line naming the flag or file at fault
   */
  public BadInputException(String message) {
    super(message);
  }

  /**
   * @param message one line naming the flag or file at fault @param cause the underlying error
   */
  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
