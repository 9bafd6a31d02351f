package dev.graft.data;

import java.nio.file.Path;
import org.slf4j.Logger;

/**
 * A file that was left out because it could not be used as an image: Graft's one skip policy. Every
 * path that reads image files a user hands it (predict, evaluate, training and its validation, the
 * featurizer, the Spark transformers) leaves such a file out with one warning naming it ({@link
 * #warn}) and goes on; the reason is spelled once, here ({@link #reason}).
 *
 * @param path the file
 * @param reason why, in a few words (for example "zero-byte file" or "truncated JPEG")
 */
public record SkippedFile(Path path, String reason) {

  /** The file and why it was left out, the reason spelled by {@link #reason}. */
  public static SkippedFile of(Path file, Throwable failure) {
    return new SkippedFile(file, reason(file.toString(), failure));
  }

  /**
   * Why the file {@code name} could not be used: the failure's message without a leading {@code
   * "name: "} (decoder messages name the file, and the skip line names it already), first line
   * only; the exception's type when it has no message.
   */
  public static String reason(String name, Throwable failure) {
    String why =
        failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
    why = why.replace(name + ": ", "").strip();
    int nl = why.indexOf('\n');
    return nl < 0 ? why : why.substring(0, nl);
  }

  /** Logs the one warning of the skip policy: {@code Skipping FILE: reason}. */
  public SkippedFile warn(Logger log) {
    log.warn("Skipping {}: {}", path, reason);
    return this;
  }

  @Override
  public String toString() {
    return path + ": " + reason;
  }
}
