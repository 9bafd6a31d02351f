package dev.graft.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One labelled image file.
 *
 * @param path the image file
 * @param label index into the owning dataset's {@link ImageDataset#labels()}
 */
public record Sample(Path path, int label) {
  public Sample {
    Objects.requireNonNull(path, "path");
  }
}
