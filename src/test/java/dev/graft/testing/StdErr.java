package dev.graft.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * Captures what code writes to {@code System.err} (slf4j-simple's log and picocli's warnings go
 * there), for tests that assert a warning is or is not given.
 */
public final class StdErr {
  private StdErr() {}

  /**
   * What {@code action} returned and what it wrote to {@code System.err}.
   *
   * @param value the action's result
   * @param text everything written to {@code System.err} while it ran
   */
  public record Captured<T>(T value, String text) {}

  /** Runs {@code action} with {@code System.err} captured, restoring it afterwards. */
  public static <T> Captured<T> capture(Callable<T> action) throws Exception {
    PrintStream saved = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      T value = action.call();
      return new Captured<>(value, bytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }
}
