package dev.graft.cli;

import dev.graft.error.GraftException;
import dev.graft.model.ModelFileException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;

/**
 * The one place that maps what went wrong to an exit code and a message.
 *
 * <ul>
 *   <li>{@link #OK} (0): success;
 *   <li>{@link #BAD_INPUT} (2): bad usage (unknown or missing flag, bad value) or bad input (a
 *       missing file, an unreadable image, a damaged model file, a value the library refuses); one
 *       line on stderr naming the flag or file at fault;
 *   <li>{@link #INTERNAL} (1): anything else, a bug or an environment failure; one line on stderr;
 *   <li>130 or 143: {@code train} stopped by Ctrl-C or SIGTERM at a safe point, its last checkpoint
 *       kept ({@link #INTERRUPTED} in process).
 * </ul>
 *
 * A stack trace follows the line only with {@code --verbose}.
 */
public final class ExitCodes {
  /** Success. */
  public static final int OK = 0;

  /** Internal error. */
  public static final int INTERNAL = 1;

  /** Bad usage or bad input. */
  public static final int BAD_INPUT = 2;

  /**
   * Training stopped at a safe point by Ctrl-C or SIGTERM (as a shell reports SIGINT; the JVM
   * itself exits 130 or 143 by the signal).
   */
  public static final int INTERRUPTED = 130;

  private ExitCodes() {}

  /** The exit code for an exception thrown by a command or by parsing. */
  public static int of(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CommandLine.ParameterException
          || c instanceof BadInputException
          || c instanceof GraftException
          || c instanceof ModelFileException
          || c instanceof NoSuchFileException
          || c instanceof NotDirectoryException
          || c instanceof AccessDeniedException) {
        return BAD_INPUT;
      }
      if (c == t
          && !(c instanceof java.util.concurrent.ExecutionException)
          && !(c instanceof java.io.UncheckedIOException)) {
        break; // only look through wrappers, not through arbitrary causes
      }
    }
    return INTERNAL;
  }

  /** One line describing {@code t} for the user. */
  public static String message(Throwable t) {
    Throwable c = unwrap(t);
    String msg = c.getMessage() == null ? "" : c.getMessage().strip();
    if (c instanceof NoSuchFileException e) {
      msg =
          "no such file or directory: "
              + e.getFile()
              + (e.getReason() == null || e.getReason().isBlank()
                  ? ""
                  : " (" + e.getReason() + ")");
    } else if (c instanceof AccessDeniedException e) {
      msg = "permission denied: " + e.getFile();
    } else if (c instanceof FileSystemException e && msg.isEmpty()) {
      msg = String.valueOf(e.getFile());
    }
    if (of(t) == INTERNAL) {
      msg = "internal error: " + c.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg);
    }
    int nl = msg.indexOf('\n');
    // What follows quotes names and values from untrusted files: no control character reaches
    // the terminal, and one refusal is one line of at most about 1 KB.
    return dev.graft.io.SafeText.line(
        nl < 0 ? msg : msg.substring(0, nl).strip(), dev.graft.io.SafeText.MAX_LINE);
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.ExecutionException
            || c instanceof java.io.UncheckedIOException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** Prints the one-line message (and the stack trace when verbose) and returns the exit code. */
  static int report(Throwable t, String command, PrintWriter err, boolean verbose) {
    int code = of(t);
    err.println(
        "graft"
            + (command == null || command.isEmpty() ? "" : " " + command)
            + ": error: "
            + message(t));
    if (verbose) {
      t.printStackTrace(err);
    } else if (code == INTERNAL) {
      err.println("(run again with --verbose for the stack trace)");
    }
    err.flush();
    return code;
  }
}
