package dev.graft.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Lets the tests that kill a training process with {@code kill -9} do so at a known point: when the
 * system property {@code graft.test.pause} names the point the loop reaches ({@code epoch:E} after
 * epoch E's checkpoint is written, {@code batch:E:B} after minibatch B of epoch E, {@code
 * checkpoint:E} while epoch E's checkpoint is complete under its temporary name but not yet moved
 * into place), the loop creates the file {@code graft.test.pauseMarker} names and sleeps until it
 * is killed, or for {@code graft.test.pauseMillis} milliseconds when that is set (so that a test
 * can send a signal while the loop is busy). Without the property nothing happens.
 */
final class TestSeam {
  private TestSeam() {}

  /**
   * Whether a test asked for a pause point (then checkpoints are written before training goes on).
   */
  static boolean active() {
    return System.getProperty("graft.test.pause") != null;
  }

  static void reached(String point) {
    String want = System.getProperty("graft.test.pause");
    if (want == null || !want.equals(point)) {
      return;
    }
    String marker = System.getProperty("graft.test.pauseMarker");
    if (marker != null) {
      try {
        Files.writeString(Path.of(marker), point);
      } catch (IOException e) {
        throw new UncheckedIOException("test seam: cannot write " + marker, e);
      }
    }
    try {
      String millis = System.getProperty("graft.test.pauseMillis");
      if (millis != null) {
        Thread.sleep(Long.parseLong(millis));
        return;
      }
      while (true) {
        Thread.sleep(60_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
