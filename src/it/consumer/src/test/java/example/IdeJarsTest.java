package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Graft's sources and Javadoc jars resolve from the repository, as an IDE asks for them
 * (the dependency plugin copied them by classifier in generate-test-resources), and hold the
 * documentation of the entry points.
 */
class IdeJarsTest {
  private static Path jar(String classifier) throws IOException {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("ide.jars")))) {
      List<Path> found = s.filter(p -> p.getFileName().toString().endsWith("-" + classifier + ".jar")).toList();
      assertEquals(1, found.size(), "one graft " + classifier + " jar: " + found);
      return found.get(0);
    }
  }

  @Test
  void sourcesAndJavadocResolveAndDocumentTheEntryPoints() throws IOException {
    try (ZipFile sources = new ZipFile(jar("sources").toFile())) {
      for (String f : List.of("dev/graft/Graft.java", "dev/graft/TransferBuilder.java",
          "dev/graft/metrics/ClassificationReport.java", "dev/graft/package-info.java")) {
        assertNotNull(sources.getEntry(f), f);
      }
    }
    try (ZipFile javadoc = new ZipFile(jar("javadoc").toFile())) {
      for (String f : List.of("index.html", "dev/graft/TransferBuilder.html",
          "dev/graft/metrics/ClassificationReport.html", "dev/graft/package-summary.html")) {
        assertNotNull(javadoc.getEntry(f), f);
      }
    }
  }
}
