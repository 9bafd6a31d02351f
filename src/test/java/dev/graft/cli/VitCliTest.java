package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.graft.base.vit.VisionTransformer;
import dev.graft.model.TransferModel;
import dev.graft.testing.Digits;
import dev.graft.testing.TinyTransformers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code graft train --strategy finetune} through a (small) DINOv2-shaped transformer saved as a
 * DL4J zip: it trains the last layers, and neither the command's output nor the process's standard
 * output carries SameDiff's "Added differentiated op" lines.
 */
class VitCliTest {
  @TempDir Path dir;

  @Test
  void fineTuningATransformerKeepsStandardOutputClean() throws Exception {
    ComputationGraph g = TinyTransformers.graph(TinyTransformers.DINOV2);
    Path base = dir.resolve("tiny-dinov2.zip");
    ModelSerializer.writeModel(g, base.toFile(), false);
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 4);
    Path model = dir.resolve("m.graft");

    PrintStream original = System.out;
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    Cli.Result r;
    System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
    try {
      r =
          Cli.run(
              "train",
              "--data",
              data.toString(),
              "--base",
              base.toString(),
              "--cut",
              VisionTransformer.POOL,
              "--image-size",
              "16",
              "--strategy",
              "finetune",
              "--unfreeze",
              "3",
              "--epochs",
              "1",
              "--batch",
              "4",
              "--out",
              model.toString());
    } finally {
      System.setOut(original);
    }
    assertEquals(0, r.code(), r.toString());
    String printed = stdout.toString(StandardCharsets.UTF_8) + r.out();
    assertFalse(printed.contains("Added differentiated op"), printed);
    List<String> unfrozen = TransferModel.load(model).info().provenance().unfrozen();
    assertEquals(
        List.of(VisionTransformer.vertex(1, "ls2"), VisionTransformer.NORM),
        unfrozen.subList(unfrozen.size() - 2, unfrozen.size()),
        "unfrozen " + unfrozen);
  }
}
