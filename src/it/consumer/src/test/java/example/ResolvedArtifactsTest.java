package example;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What a project that depends on dev.graft:graft (and the logging binding the docs name) resolves
 * at run time (the list the dependency plugin wrote in generate-test-resources): the library's
 * needs and nothing else.
 */
class ResolvedArtifactsTest {
  /** groupId:artifactId:type[:classifier]:version:scope and the file. */
  record Artifact(String group, String artifact, String classifier, String scope, Path file) {
    String id() {
      return group + ":" + artifact + (classifier.isEmpty() ? "" : ":" + classifier);
    }
  }

  static List<Artifact> runtimeArtifacts() throws IOException {
    return Files.readAllLines(Path.of(System.getProperty("runtime.artifacts"))).stream()
        .map(String::strip)
        .filter(l -> l.matches("[\\w.-]+:[\\w.-]+:\\w+:.*"))
        .map(l -> l.replaceAll(" -- .*$", ""))
        .map(l -> {
          String[] p = l.split(":");
          // with a classifier: g:a:type:classifier:version:scope:path, else g:a:type:version:scope:path
          boolean classified = p.length >= 7;
          String path = String.join(":", java.util.Arrays.copyOfRange(p, classified ? 6 : 5, p.length));
          return new Artifact(p[0], p[1], classified ? p[3] : "", p[classified ? 5 : 4], Path.of(path));
        })
        .collect(Collectors.toList());
  }

  @Test
  void theLibrarysNeedsAndNothingElse() throws IOException {
    List<Artifact> all = runtimeArtifacts();
    long bytes = 0;
    for (Artifact a : all) {
      bytes += Files.size(a.file());
    }
    System.out.printf("consumer of dev.graft:graft resolves %d runtime artifacts (Graft included), %.1f MB%n",
        all.size(), bytes / 1e6);
    List<String> ids = all.stream().map(Artifact::id).toList();
    assertTrue(ids.contains("dev.graft:graft"), ids.toString());
    assertTrue(ids.stream().anyMatch(i -> i.startsWith("org.nd4j:nd4j-native:")), "a native build: " + ids);
    for (Artifact a : all) {
      String id = a.id().toLowerCase(Locale.ROOT);
      assertFalse(a.classifier().contains("avx512") || a.classifier().contains("onednn"),
          "speed-only natives are opt-in: " + id);
      boolean binding = id.matches("org\\.slf4j:slf4j-(simple|nop|jdk14|log4j12|reload4j).*|ch\\.qos\\.logback:.*|org\\.apache\\.logging\\.log4j:log4j-slf4j.*");
      assertFalse(binding && !DECLARED_BINDING.equals(id), "a library must not choose the logging backend: " + id);
      assertFalse(id.startsWith("info.picocli:"), "CLI-only: " + id);
      assertFalse(id.startsWith("org.junit") || id.startsWith("org.opentest4j") || id.startsWith("junit:"),
          "no test framework: " + id);
      assertFalse(id.matches("org\\.bytedeco:(opencv|ffmpeg|leptonica|tesseract|javacv|librealsense2?|flycapture).*"),
          "DataVec's image stack is not used: " + id);
    }
  }

  /** The binding this project declares itself, as docs/building.md tells users to. */
  private static final String DECLARED_BINDING = "org.slf4j:slf4j-simple";

  /**
   * The binding on the class path is this project's own: in the runtime dependency tree it hangs
   * off the project (depth 1), never off dev.graft:graft.
   */
  @Test
  void theOnlyBindingIsTheOneThisProjectDeclares() throws IOException {
    List<String> tree = Files.readAllLines(Path.of(System.getProperty("runtime.tree")));
    List<String> bindingLines = tree.stream().filter(l -> l.contains("org.slf4j:slf4j-simple:")
        || l.contains("ch.qos.logback:") || l.contains(":log4j-slf4j")).toList();
    assertTrue(bindingLines.size() == 1, "one binding: " + bindingLines);
    String line = bindingLines.get(0);
    assertTrue(line.startsWith("+- ") || line.startsWith("\\- "),
        "declared by this project, not brought by Graft: " + line + "\n" + String.join("\n", tree));
  }

  @Test
  void nativesForThisPlatformOnly() throws IOException {
    String platform = System.getProperty("javacpp.platform", "");
    assumeTrue(!platform.isEmpty() && !platform.startsWith("$"), "run with -Djavacpp.platform=...");
    for (Artifact a : runtimeArtifacts()) {
      boolean nativeJar = (a.group().equals("org.bytedeco") || a.group().equals("org.nd4j")) && !a.classifier().isEmpty();
      if (nativeJar) {
        assertTrue(a.classifier().startsWith(platform), "natives of another platform: " + a.id());
      }
    }
  }
}
