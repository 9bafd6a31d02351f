package dev.graft.data;

import java.nio.file.Path;

/**
 * A file that was left out because it could not be used as an image.
 *
 * @param path the file
 * @param reason why, in a few words (for example "zero-byte file" or "truncated JPEG")
 */
public record SkippedFile(Path path, String reason) {
  @Override
  public String toString() {
    return path + ": " + reason;
  }
}
