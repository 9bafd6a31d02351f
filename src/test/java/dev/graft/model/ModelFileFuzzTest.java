package dev.graft.model;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.error.GraftException;
import dev.graft.io.FuzzSeeds;
import dev.graft.io.HostileFiles;
import dev.graft.io.HostileGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link ModelFile#read(Path)} ({@code predict}, {@code evaluate}): a model, or a refusal
 * the CLI answers with exit 2 ({@link GraftException}, {@link ModelFileException}), never another
 * exception, a hang or an out-of-memory error.
 */
class ModelFileFuzzTest {
  static Path file;

  @BeforeAll
  static void seeds() throws Exception {
    Path dir = Files.createTempDirectory("graft-fuzz-graft");
    file = dir.resolve("fuzzed.graft");
    Map<String, byte[]> seeds = new LinkedHashMap<>();
    seeds.put("good", FuzzSeeds.bytes(HostileFiles.goodGraft(dir.resolve("good.graft"))));
    seeds.put("number", FuzzSeeds.bytes(HostileFiles.longNumberGraft(dir, 200)));
    seeds.put(
        "payload",
        FuzzSeeds.bytes(HostileFiles.graftWith(dir, "p.graft", HostileFiles.payloadZip(dir))));
    seeds.put(
        "overflow",
        FuzzSeeds.bytes(HostileGraphs.graftOf(dir, HostileGraphs.overflowingDenseZip(dir))));
    FuzzSeeds.write(ModelFileFuzzTest.class, "fuzz", seeds);
  }

  @FuzzTest(maxDuration = "25s")
  void fuzz(byte[] bytes) throws Exception {
    Files.write(file, bytes);
    try {
      ModelFile.read(file).network().close();
    } catch (GraftException | ModelFileException expected) {
      // refused: exit 2
    }
  }
}
