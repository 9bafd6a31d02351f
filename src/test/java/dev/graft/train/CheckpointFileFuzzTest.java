package dev.graft.train;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.error.GraftException;
import dev.graft.io.FuzzSeeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link CheckpointFile#read} ({@code train --resume}): a checkpoint, or a {@link
 * GraftException} naming the file (exit 2), never another exception, a hang or an out-of-memory
 * error. Seed: a small checkpoint written by {@link CheckpointFile#write}.
 */
class CheckpointFileFuzzTest {
  static Path file;

  @BeforeAll
  static void seeds() throws Exception {
    Path dir = Files.createTempDirectory("graft-fuzz-checkpoint");
    file = dir.resolve("fuzzed.ckpt");
    Path good = dir.resolve("good.ckpt");
    HostileCheckpoints.good(good);
    CheckpointFile.read(good); // the seed is a good checkpoint
    FuzzSeeds.write(CheckpointFileFuzzTest.class, "fuzz", Map.of("good", FuzzSeeds.bytes(good)));
  }

  @FuzzTest(maxDuration = "25s")
  void fuzz(byte[] bytes) throws Exception {
    Files.write(file, bytes);
    try {
      CheckpointFile.read(file);
    } catch (GraftException expected) {
      // refused: exit 2
    }
  }
}
