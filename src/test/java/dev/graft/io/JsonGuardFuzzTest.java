package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Fuzzes {@link JsonGuard#parse} and the class allowlist on its tree: either a {@link
 * RefusedFileException}, or a tree that DL4J's own Jackson (first duplicate key wins) reads the
 * same way, so the allowlist and DL4J always see the same class names.
 */
class JsonGuardFuzzTest {
  private static final ObjectMapper DL4J_LIKE = new ObjectMapper();
  private static final Path FILE = Path.of("fuzzed.json");

  @BeforeAll
  static void seeds() throws Exception {
    Path dir = Files.createTempDirectory("graft-fuzz-json");
    Map<String, byte[]> seeds = new LinkedHashMap<>();
    seeds.put(
        "configuration",
        HostileFiles.entries(HostileFiles.goodZip(dir.resolve("good.zip")))
            .get(NetworkZip.CONFIGURATION));
    seeds.put(
        "duplicate",
        HostileFiles.entries(HostileFiles.duplicateClassZip(dir)).get(NetworkZip.CONFIGURATION));
    seeds.put(
        "graft",
        HostileFiles.entries(HostileFiles.goodGraft(dir.resolve("good.graft"))).get("graft.json"));
    seeds.put(
        "small",
        "{\"a\": [1, -2.5e-3, \"x\\u0041\", true, null], \"b\": {\"@class\": \"c\"}}"
            .getBytes(StandardCharsets.UTF_8));
    FuzzSeeds.write(JsonGuardFuzzTest.class, "fuzz", seeds);
  }

  @FuzzTest(maxDuration = "25s")
  void fuzz(byte[] bytes) throws Exception {
    JsonNode tree;
    try {
      tree = JsonGuard.parse(bytes, FILE, "fuzzed.json", Limits.defaults());
      ClassAllowlist.check(tree, FILE, "fuzzed.json");
    } catch (RefusedFileException expected) {
      return;
    }
    // Accepted: a plain Jackson tree of the same text is the same tree (no duplicate key).
    assertEquals(tree, DL4J_LIKE.readTree(new String(bytes, StandardCharsets.UTF_8)));
  }
}
