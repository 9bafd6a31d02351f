package dev.graft.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A text progress bar with rate and ETA on stderr, for featurizing, epochs and evaluation:
 *
 * <pre>
 * epoch 3/10   [##########..........]  52%  260/500  118.2 img/s  ETA 0:02
 * </pre>
 *
 * On a terminal it redraws one line in place; otherwise (a log file, a test) it prints a line at
 * most every 10 % or 10 seconds, and always at the end, so logs stay short.
 */
public final class ProgressBar implements AutoCloseable {
  private static final int WIDTH = 24;

  private final PrintWriter err;
  private final String label;
  private final long total;
  private final String unit;
  private final boolean tty;
  private final long start = System.nanoTime();
  private long done;
  private long lastPrintNanos;
  private int lastDecile = -1;
  private boolean finished;
  private String suffix = "";

  /**
   * @param err where to draw (stderr)
   * @param label what is in progress, e.g. {@code "featurizing"}
   * @param total the number of units in the step
   * @param unit the unit's short name, e.g. {@code "img"}
   * @param tty whether {@code err} is a terminal (redraw in place)
   */
  public ProgressBar(PrintWriter err, String label, long total, String unit, boolean tty) {
    this.err = err;
    this.label = label;
    this.total = Math.max(0, total);
    this.unit = unit;
    this.tty = tty;
  }

  /** Whether stderr looks like a terminal. */
  public static boolean stderrIsTerminal() {
    return System.console() != null && !"dumb".equals(System.getenv("TERM"));
  }

  /** Text shown after the ETA (e.g. the running loss). */
  public synchronized ProgressBar suffix(String text) {
    this.suffix = text == null ? "" : text;
    return this;
  }

  /** Sets the number of units done. */
  public synchronized void update(long doneNow) {
    done = Math.min(total, Math.max(0, doneNow));
    long now = System.nanoTime();
    int decile = total == 0 ? 10 : (int) (10 * done / total);
    boolean print =
        tty
            ? now - lastPrintNanos > 100_000_000L || done == total
            : decile > lastDecile || now - lastPrintNanos > 10_000_000_000L;
    if (done == total && total > 0) {
      finish();
      return;
    }
    if (print) {
      lastPrintNanos = now;
      lastDecile = decile;
      draw(false);
    }
  }

  /** Adds {@code n} units done. */
  public synchronized void step(long n) {
    update(done + n);
  }

  /** Draws the final state (100 % or wherever it stopped) and ends the line. */
  public synchronized void finish() {
    if (finished) {
      return;
    }
    finished = true;
    draw(true);
  }

  @Override
  public void close() {
    finish();
  }

  /** The current line, without carriage return (for tests). */
  synchronized String line() {
    double secs = (System.nanoTime() - start) / 1e9;
    double frac = total == 0 ? 1 : (double) done / total;
    int filled = (int) Math.round(frac * WIDTH);
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-14s [", label));
    sb.append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ");
    sb.append(String.format(Locale.ROOT, "%3d%%  %d/%d", Math.round(100 * frac), done, total));
    double rate = secs > 0 ? done / secs : 0;
    if (done > 0) {
      sb.append(String.format(Locale.ROOT, "  %.1f %s/s", rate, unit));
    }
    if (done >= total) {
      sb.append("  ").append(clock(secs));
    } else if (done > 0) {
      sb.append("  ETA ").append(clock((total - done) / rate));
    }
    if (!suffix.isEmpty()) {
      sb.append("  ").append(suffix);
    }
    return sb.toString();
  }

  private void draw(boolean last) {
    if (tty) {
      err.print("\r" + line() + "\u001b[K" + (last ? "\n" : ""));
    } else {
      err.println(line());
    }
    err.flush();
  }

  static String clock(double seconds) {
    long s = Math.max(0, Math.round(seconds));
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
