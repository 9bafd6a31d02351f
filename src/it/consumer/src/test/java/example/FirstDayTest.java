package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.demo.DemoData;
import dev.graft.demo.MnistTransferDemo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;

/**
 * Logging as a new user meets it: {@link FirstDayJob} runs in a fresh JVM with this project's class
 * path (Graft plus the slf4j-simple binding docs/building.md names, nothing configured), and its
 * stderr must show Graft's INFO lines (the native build, the class counts, what was featurized)
 * and its progress (every epoch), and none of ND4J's start-up chatter nor slf4j's "no providers".
 */
class FirstDayTest {
  @Test
  void theDocumentedBindingShowsGraftsProgressAndInfoLines() throws Exception {
    Path work = Files.createDirectories(Path.of("first-day").toAbsolutePath());
    DemoData.load().extract(work.resolve("digits"), List.of(3, 7), 0, 12);
    ModelSerializer.writeModel(MnistTransferDemo.cnn(2, 7), work.resolve("my-cnn.zip").toFile(), true);

    Path err = work.resolve("stderr.txt");
    Process p = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "-Djavacpp.platform=" + System.getProperty("javacpp.platform", ""),
            "-cp", System.getProperty("java.class.path"),
            FirstDayJob.class.getName(), work.toString())
        .redirectError(err.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the job finished");
    String log = Files.readString(err, StandardCharsets.UTF_8);
    System.out.println("--- the first-day job's stderr ---\n" + log + "--- end ---");
    assertEquals(0, p.exitValue(), log);

    assertFalse(log.contains("No SLF4J providers"), "the documented binding is in force:\n" + log);
    assertTrue(log.contains("INFO dev.graft.perf.NativeTuning - ND4J native build: "), log);
    assertTrue(log.contains("INFO dev.graft.data.Scan - 24 images, 2 classes"), log);
    assertTrue(log.contains("INFO dev.graft.features.Featurizer - wrote 24 x "), log);
    for (int e = 1; e <= 3; e++) {
      assertTrue(log.contains("INFO dev.graft.train.Trainer - epoch " + e + "/3 [head]"), "epoch " + e + ":\n" + log);
    }
    assertTrue(log.contains("lr head 1.00e-03"), "the head's rate, named:\n" + log);
    // ND4J's and DL4J's start-up lines are at WARN unless asked for
    for (String chatter : List.of("Blas vendor", "Backend build information", "Number of threads used",
        "Starting ComputationGraph with WorkspaceModes")) {
      assertFalse(log.contains(chatter), "ND4J start-up chatter '" + chatter + "':\n" + log);
    }
    assertTrue(Files.isRegularFile(work.resolve("first-day.graft")));
    assertTrue(Files.isRegularFile(work.resolve("features").resolve("features.npy")));
  }
}
