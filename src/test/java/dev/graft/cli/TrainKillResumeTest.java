package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import dev.graft.testing.Digits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * {@code graft train} in real child JVMs, killed with {@code kill -9} (or stopped by SIGTERM) at
 * known points, then rerun with {@code --resume}: the finished model is bit-identical to an
 * uninterrupted run's. Fine-tune with augmentation and dropout, 4 epochs (2 warm-up + 2
 * fine-tuning), 4 minibatches an epoch. The children pause at a point through {@code
 * graft.test.pause} and say so by creating a marker file.
 */
class TrainKillResumeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static Path data;
  static Path baseZip;
  static JsonNode referenceJson;
  static TransferModel reference;

  @BeforeAll
  static void uninterruptedRun() throws Exception {
    data = TinyNets.digits(dir.resolve("data"), List.of("1", "4", "8"), 0, 12);
    baseZip = dir.resolve("tiny-base.zip");
    ModelSerializer.writeModel(TinyNets.classifier(28, 5, 1), baseZip.toFile(), false);
    Path out = dir.resolve("reference/m.graft");
    Child c = Child.start(args(out), List.of());
    assertEquals(0, c.waitFor(), c.log());
    referenceJson = JSON.readTree(c.stdout());
    reference = TransferModel.load(out);
    assertEquals(4, referenceJson.get("epochs").asInt());
    assertEquals(0, referenceJson.get("resumedFromEpoch").asInt());
    assertFalse(Files.exists(dir.resolve("reference/m.graft.ckpt")), "checkpoint deleted");
  }

  private static List<String> args(Path out) {
    return List.of(
        "train",
        "--data",
        data.toString(),
        "--val-split",
        "0.25",
        "--base",
        baseZip.toString(),
        "--image-size",
        "28",
        "--strategy",
        "finetune",
        "--unfreeze",
        "2",
        "--dense",
        "8",
        "--dropout",
        "0.3",
        "--augment",
        "--epochs",
        "4",
        "--batch",
        "8",
        "--seed",
        "7",
        "--out",
        out.toString(),
        "--json");
  }

  @Test
  void killedAfterTheFirstEpoch() throws Exception {
    killResumeAndCompare("after-epoch-1", "epoch:1", 1);
  }

  @Test
  void killedMidEpoch() throws Exception {
    killResumeAndCompare("mid-epoch-2", "batch:2:2", 1);
  }

  @Test
  void killedWhileWritingACheckpoint() throws Exception {
    Path out = killResumeAndCompare("checkpoint-3", "checkpoint:3", 2);
    try (Stream<Path> s = Files.list(out.getParent())) {
      assertFalse(
          s.anyMatch(p -> p.getFileName().toString().contains(".tmp-")),
          "the torn checkpoint's temporary file is removed by the resumed run");
    }
  }

  @Test
  void killedInTheFineTunePhase() throws Exception {
    killResumeAndCompare("finetune-epoch-4", "batch:4:1", 3);
  }

  @Test
  void sigtermStopsAtASafePointAndSaysHowToResume() throws Exception {
    Path out = dir.resolve("sigterm/m.graft");
    Path marker = dir.resolve("sigterm.marker");
    Child c =
        Child.start(
            args(out),
            List.of(
                "-Dgraft.test.pause=epoch:2",
                "-Dgraft.test.pauseMarker=" + marker,
                "-Dgraft.test.pauseMillis=1500"));
    c.awaitMarker(marker);
    c.process.destroy(); // SIGTERM
    assertEquals(143, c.waitFor(), c.log());
    assertTrue(c.stderr().contains("checkpoint of epoch 2 is kept"), c.log());
    assertTrue(c.stderr().contains("--resume"), c.log());
    assertFalse(Files.exists(out), "no model file");
    resumeAndCompare(out, 2, true);
  }

  private Path killResumeAndCompare(String name, String pause, int checkpointed) throws Exception {
    Path out = dir.resolve(name + "/m.graft");
    Path marker = dir.resolve(name + ".marker");
    Child c =
        Child.start(
            args(out),
            List.of("-Dgraft.test.pause=" + pause, "-Dgraft.test.pauseMarker=" + marker));
    c.awaitMarker(marker);
    c.process.destroyForcibly(); // SIGKILL
    c.waitFor();
    assertFalse(Files.exists(out), "no model file after the kill");
    if (pause.startsWith("checkpoint:")) {
      try (Stream<Path> s = Files.list(out.getParent())) {
        assertTrue(
            s.anyMatch(p -> p.getFileName().toString().startsWith(".m.graft.ckpt.tmp-")),
            "killed with the new checkpoint still under its temporary name");
      }
    }
    resumeAndCompare(out, checkpointed, false);
    return out;
  }

  private void resumeAndCompare(Path out, int checkpointed, boolean keep) throws Exception {
    assertTrue(Files.isRegularFile(Path.of(out + ".ckpt")), "checkpoint kept");
    List<String> a = new ArrayList<>(args(out));
    a.add("--resume");
    if (keep) {
      a.add("--keep-checkpoint");
    }
    Child r = Child.start(a, List.of());
    assertEquals(0, r.waitFor(), r.log());
    JsonNode json = JSON.readTree(r.stdout());
    assertEquals(checkpointed, json.get("resumedFromEpoch").asInt(), r.log());
    assertTrue(r.stderr().contains("resuming from epoch " + checkpointed), r.log());
    assertEquals(referenceJson.get("bestEpoch"), json.get("bestEpoch"));
    assertEquals(referenceJson.get("epochs"), json.get("epochs"));
    assertEquals(referenceJson.get("validation"), json.get("validation"));
    assertEquals(keep, Files.exists(Path.of(out + ".ckpt")), "checkpoint kept only on request");
    TransferModel m = TransferModel.load(out);
    assertArrayEquals(floats(reference.network().params()), floats(m.network().params()));
    INDArray x = Digits.tensors(List.of(1, 4, 8), 12, 4, 28).getFeatures();
    assertArrayEquals(
        floats(reference.network().outputSingle(x)), floats(m.network().outputSingle(x)));
  }

  private static float[] floats(INDArray a) {
    return a.dup().data().asFloat();
  }

  /** A {@code graft} child JVM with its stdout and stderr in files. */
  private record Child(Process process, Path out, Path err) {
    static Child start(List<String> args, List<String> jvmOptions) throws IOException {
      List<String> cmd = ChildJvm.command(jvmOptions, GraftCli.class, args);
      Path out = Files.createTempFile(dir, "child", ".out");
      Path err = Files.createTempFile(dir, "child", ".err");
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.redirectOutput(out.toFile());
      pb.redirectError(err.toFile());
      return new Child(pb.start(), out, err);
    }

    void awaitMarker(Path marker) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!Files.exists(marker)) {
        if (!process.isAlive()) {
          throw new AssertionError("child ended before the pause point: " + log());
        }
        if (System.nanoTime() > deadline) {
          process.destroyForcibly();
          throw new AssertionError("child never reached the pause point: " + log());
        }
        Thread.sleep(50);
      }
    }

    int waitFor() throws Exception {
      if (!process.waitFor(300, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("child timed out: " + log());
      }
      return process.exitValue();
    }

    String stdout() throws IOException {
      return Files.readString(out);
    }

    String stderr() throws IOException {
      return Files.readString(err);
    }

    String log() {
      try {
        return "exit "
            + (process.isAlive() ? "?" : process.exitValue())
            + "\n--- stdout\n"
            + stdout()
            + "\n--- stderr\n"
            + stderr();
      } catch (IOException e) {
        return e.toString();
      }
    }
  }
}
