package dev.graft.train;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.error.GraftException;
import dev.graft.io.FuzzSeeds;
import dev.graft.metrics.Monitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

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
    TrainingState st = new TrainingState(Monitor.values()[0]);
    st.epoch = 2;
    st.current = new LinkedHashMap<>();
    st.current.put("dense", new LinkedHashMap<>());
    st.current.get("dense").put("W", Nd4j.rand(DataType.FLOAT, 3, 2));
    st.current.get("dense").put("b", Nd4j.rand(DataType.FLOAT, 1, 2));
    Fingerprint fp =
        new Fingerprint(Map.of("base", "tiny"), List.of("a.png\t1"), List.of("b.png\t0"));
    CheckpointFile.write(good, fp, st, () -> {});
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
