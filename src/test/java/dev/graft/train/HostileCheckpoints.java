package dev.graft.train;

import dev.graft.io.HostileFiles;
import dev.graft.metrics.Monitor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/** Crafted checkpoints for tests: small files that lie about their arrays or counters. */
public final class HostileCheckpoints {
  private HostileCheckpoints() {}

  /**
   * A small good checkpoint (two arrays of layer {@code dense}) as {@link CheckpointFile#write}
   * writes it.
   */
  public static Path good(Path file) throws IOException {
    TrainingState st = new TrainingState(Monitor.values()[0]);
    st.epoch = 2;
    st.current = new LinkedHashMap<>();
    st.current.put("dense", new LinkedHashMap<>());
    st.current.get("dense").put("W", Nd4j.rand(DataType.FLOAT, 3, 2));
    st.current.get("dense").put("b", Nd4j.rand(DataType.FLOAT, 1, 2));
    Fingerprint fp =
        new Fingerprint(Map.of("base", "tiny"), List.of("a.png\t1"), List.of("b.png\t0"));
    CheckpointFile.write(file, fp, st, () -> {});
    return file;
  }

  /**
   * A 1 KB checkpoint whose array list declares a 2-billion-value array (8 GB), consistently with
   * its declared total.
   */
  public static Path hugeArray(Path dir) throws IOException {
    return edited(
        dir,
        "huge.ckpt",
        root -> {
          var first = (ObjectNode) root.get("arrays").get(0);
          first.putArray("shape").add(2_000_000_000L);
          root.put("arraysBytes", 2_000_000_000L * Float.BYTES + 2 * Float.BYTES);
        });
  }

  /** A checkpoint whose epoch counter is negative. */
  public static Path negativeCounter(Path dir) throws IOException {
    return edited(dir, "negative.ckpt", root -> ((ObjectNode) root.get("state")).put("epoch", -7));
  }

  private static Path edited(Path dir, String name, java.util.function.Consumer<ObjectNode> edit)
      throws IOException {
    Map<String, byte[]> e = HostileFiles.entries(good(dir.resolve("good-for-" + name)));
    ObjectNode root = (ObjectNode) new ObjectMapper().readTree(e.get(CheckpointFile.INFO));
    edit.accept(root);
    e.put(CheckpointFile.INFO, root.toString().getBytes(StandardCharsets.UTF_8));
    return HostileFiles.writeZip(dir.resolve(name), e);
  }
}
