package dev.graft.examples;

import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.Split;
import dev.graft.demo.DemoData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Where the runnable examples get their images: a folder per class, or the bundled digits. */
final class ExampleData {
  private ExampleData() {}

  /**
   * Train/validation split (80/20, seed 42) of the folder in {@code args[0]}, or of 100 bundled
   * MNIST digits per class written to a temporary folder.
   */
  static Split load(String[] args) throws IOException {
    Path root;
    if (args.length > 0) {
      root = Path.of(args[0]);
    } else {
      root = Files.createTempDirectory("graft-digits");
      DemoData.load().extract(root, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 0, 100);
    }
    ImageDataset all = ImageFolder.of(root);
    return all.split(0.8, 42);
  }
}
