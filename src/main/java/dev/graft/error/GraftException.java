package dev.graft.error;

/**
 * The one unchecked exception Graft throws for bad configuration or bad input: an impossible option
 * combination, an unknown base name, a file that is not what it claims to be. The message always
 * names the value, option or file at fault so that the command line can print it as is.
 */
public class GraftException extends RuntimeException {
  /**
   * An error with a message that names the value, option or file at fault.
   *
   * @param message what went wrong, with the value echoed
   */
  public GraftException(String message) {
    super(message);
  }

  /**
   * An error with a message and the exception that caused it.
   *
   * @param message what went wrong, with the value echoed
   * @param cause the underlying exception
   */
  public GraftException(String message, Throwable cause) {
    super(message, cause);
  }
}
