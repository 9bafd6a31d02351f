package dev.graft.train;

import dev.graft.metrics.Monitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What a checkpoint costs the training thread ({@code Bench checkpoint}), for the state of a
 * ResNet50 fine-tune of the last bottleneck (res5c's three convolutions and a 4-class head: 4.46 M
 * parameters, Adam's two moments, the best epoch's copy): the whole write as the loop did it before
 * (on the training thread, forced to disk), and what the loop does now on that thread (copy the
 * trained parameters and the optimizer state, serialise the rest) while a writer thread writes.
 */
public final class CheckpointCost {
  private CheckpointCost() {}

  /** Prints both costs in milliseconds, best of five. */
  public static void main(String[] args) throws Exception {
    Map<String, Map<String, INDArray>> trained = new LinkedHashMap<>();
    trained.put("res5c_branch2a", Map.of("W", Nd4j.rand(DataType.FLOAT, 512, 2048, 1, 1)));
    trained.put("res5c_branch2b", Map.of("W", Nd4j.rand(DataType.FLOAT, 512, 512, 3, 3)));
    trained.put("res5c_branch2c", Map.of("W", Nd4j.rand(DataType.FLOAT, 2048, 512, 1, 1)));
    trained.put(
        "head_output",
        Map.of("W", Nd4j.rand(DataType.FLOAT, 2048, 4), "b", Nd4j.rand(DataType.FLOAT, 1, 4)));
    long params =
        trained.values().stream()
            .flatMap(m -> m.values().stream())
            .mapToLong(INDArray::length)
            .sum();
    INDArray updater = Nd4j.rand(DataType.FLOAT, 2 * params);
    Path file = Files.createTempDirectory("graft-checkpoint-cost").resolve("run.ckpt");
    Fingerprint fp = new Fingerprint(Map.of("base", "resnet50"), List.of(), List.of());
    double before = Double.MAX_VALUE;
    double now = Double.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      TrainingState st = new TrainingState(Monitor.VALIDATION_LOSS);
      long t0 = System.nanoTime();
      st.current = copy(trained);
      st.best = st.current;
      st.updaterState = updater.dup();
      CheckpointFile.Prepared p = CheckpointFile.prepare(fp, st);
      now = Math.min(now, (System.nanoTime() - t0) / 1e6);
      CheckpointFile.write(file, p, null);
      before = Math.min(before, (System.nanoTime() - t0) / 1e6);
    }
    System.out.printf(
        Locale.ROOT,
        "checkpoint of %.2f M parameters (%d MB on disk): %.0f ms written on the training thread"
            + " (before), %.0f ms on the training thread now (the write goes on beside training)%n",
        params / 1e6,
        Files.size(file) >> 20,
        before,
        now);
  }

  private static Map<String, Map<String, INDArray>> copy(Map<String, Map<String, INDArray>> m) {
    Map<String, Map<String, INDArray>> c = new LinkedHashMap<>();
    m.forEach(
        (k, v) -> {
          Map<String, INDArray> p = new LinkedHashMap<>();
          v.forEach((n, a) -> p.put(n, a.dup()));
          c.put(k, p);
        });
    return c;
  }
}
