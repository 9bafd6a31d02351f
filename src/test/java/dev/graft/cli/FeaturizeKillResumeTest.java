package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code graft featurize} JVM killed with {@code kill -9} between two chunks, then run
 * again: the rerun computes only the images whose chunk never reached the cache, the feature file
 * is identical to an uninterrupted run's, and a third, unchanged run computes nothing.
 */
class FeaturizeKillResumeTest {
  private static final Pattern COUNTS =
      Pattern.compile("\\((\\d+) computed, (\\d+) from the cache\\)");

  @TempDir Path dir;

  @Test
  void killedRunResumesAndRerunComputesNothing() throws Exception {
    List<String> labels = List.of("1", "4", "8");
    Path base = dir.resolve("base.zip");
    ModelSerializer.writeModel(TinyNets.classifier(28, 3, 5), base.toFile(), false);
    Path data = TinyNets.digits(dir.resolve("digits"), labels, 20); // 60 images
    Path cache = dir.resolve("cache");

    // the killed run: chunks of 4 images (batch 1), a pause after each published chunk
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                java,
                "-Xmx512m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dgraft.test.pause-after-chunk-ms=400",
                "-cp",
                System.getProperty("java.class.path"),
                GraftCli.class.getName()));
    command.addAll(args(base, data, dir.resolve("killed"), cache));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectErrorStream(true);
    pb.redirectOutput(dir.resolve("child.log").toFile());
    Process child = pb.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (segments(cache) < 2) {
        assertTrue(
            child.isAlive(), "child ended early: " + Files.readString(dir.resolve("child.log")));
        assertTrue(System.nanoTime() < deadline, "no chunk was published in 120 s");
        Thread.sleep(20);
      }
      // SIGKILL: no shutdown hook, no finally block runs in the child
      new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child survived kill -9");
    } finally {
      child.destroyForcibly();
    }
    assertTrue(
        Files.notExists(dir.resolve("killed").resolve("features.npy")),
        "a killed run wrote output");

    Cli.Result resumed = featurize(base, data, dir.resolve("resumed"), cache);
    assertEquals(0, resumed.code(), resumed.toString());
    int[] counts = counts(resumed.out());
    assertTrue(
        counts[1] >= 8 && counts[0] > 0 && counts[0] + counts[1] == 60,
        "the resumed run should read the published chunks and compute the rest: " + resumed.out());

    Cli.Result fresh = featurize(base, data, dir.resolve("fresh"), dir.resolve("fresh-cache"));
    assertEquals(0, fresh.code(), fresh.toString());
    assertEquals(60, counts(fresh.out())[0], fresh.out());
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("fresh/features.npy")),
        Files.readAllBytes(dir.resolve("resumed/features.npy")),
        "resumed features differ from an uninterrupted run's");
    assertEquals(
        Files.readString(dir.resolve("fresh/labels.csv")),
        Files.readString(dir.resolve("resumed/labels.csv")));

    Cli.Result again = featurize(base, data, dir.resolve("again"), cache);
    assertEquals(0, again.code(), again.toString());
    assertEquals(0, counts(again.out())[0], "an unchanged rerun ran the network: " + again.out());
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("fresh/features.npy")),
        Files.readAllBytes(dir.resolve("again/features.npy")));
    try (Stream<Path> s = Files.walk(cache)) {
      assertTrue(
          s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")),
          "the killed writer's temporary file was not cleaned");
    }
  }

  private static Cli.Result featurize(Path base, Path data, Path out, Path cache) {
    return Cli.run(args(base, data, out, cache).toArray(String[]::new));
  }

  private static List<String> args(Path base, Path data, Path out, Path cache) {
    return List.of(
        "featurize",
        "--base",
        base.toString(),
        "--image-size",
        "28",
        "--batch",
        "1",
        "--data",
        data.toString(),
        "--out",
        out.toString(),
        "--cache",
        cache.toString());
  }

  private static int[] counts(String out) {
    Matcher m = COUNTS.matcher(out);
    assertTrue(m.find(), out);
    return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
  }

  private static long segments(Path cache) throws Exception {
    if (!Files.isDirectory(cache)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(cache)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".feat")).count();
    }
  }
}
