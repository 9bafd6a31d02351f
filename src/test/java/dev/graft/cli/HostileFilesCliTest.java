package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.io.HostileFiles;
import dev.graft.model.TinyNets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import untrusted.RecordingActivation;
import untrusted.RecordingPayload;

/**
 * Hostile {@code .graft} files and DL4J zips through {@code predict}, {@code evaluate} and {@code
 * train --base}: exit 2 within seconds, one line naming the file and the entry, nothing run.
 */
class HostileFilesCliTest {
  @TempDir static Path dir;
  static Path data;

  @BeforeAll
  static void setUp() throws Exception {
    data = TinyNets.digits(dir.resolve("data"), HostileFiles.LABELS, 4);
  }

  interface Maker {
    Path make(Path dir) throws Exception;
  }

  static Stream<Arguments> hostile() {
    return Stream.of(
        Arguments.of("payload", (Maker) HostileFiles::payloadZip, "preprocessor.bin"),
        Arguments.of("class", (Maker) HostileFiles::offAllowlistZip, "configuration.json"),
        Arguments.of("duplicate", (Maker) HostileFiles::duplicateClassZip, "configuration.json"),
        Arguments.of("bomb", (Maker) HostileFiles::bombZip, "coefficients.bin"),
        Arguments.of("lying", (Maker) HostileFiles::lyingHeaderZip, "coefficients.bin"),
        Arguments.of("truncated", (Maker) HostileFiles::truncatedEntryZip, "coefficients.bin"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostile")
  void refusedWithExitTwo(String name, Maker maker, String entry) throws Exception {
    Path sub = java.nio.file.Files.createDirectories(dir.resolve(name));
    Path zip = maker.make(sub);
    Path graft = HostileFiles.graftWith(sub, name + ".graft", zip);
    int payloads = RecordingPayload.READS.get();
    int constructed = RecordingActivation.CONSTRUCTED.get();
    Path img = data.resolve("4/0001.png");

    expectRefused(
        graft,
        "network.zip/" + entry,
        () -> Cli.run("predict", "--model", graft.toString(), img.toString()));
    expectRefused(
        graft,
        "network.zip/" + entry,
        () -> Cli.run("evaluate", "--model", graft.toString(), "--data", data.toString()));
    expectRefused(zip, entry, () -> trainFrozen(data, zip, sub.resolve("out.graft")));
    assertEquals(payloads, RecordingPayload.READS.get());
    assertEquals(constructed, RecordingActivation.CONSTRUCTED.get());
  }

  @Test
  void anInputSizeTooLargeForMemoryIsRefusedBeforeAllocating() throws Exception {
    Path sub = java.nio.file.Files.createDirectories(dir.resolve("size"));
    Path graft = HostileFiles.inputSizeGraft(sub, 16384);
    Path img = data.resolve("4/0001.png");
    Cli.Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(5),
            () -> Cli.run("predict", "--model", graft.toString(), img.toString()));
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains(graft.toString()), r.toString());
    assertTrue(r.err().contains("'inputSize' must be in [1, 4096], got 16384"), r.toString());
    // The largest side allowed still loads (nothing is allocated for it until an image comes).
    Path edge = HostileFiles.inputSizeGraft(sub, 4096);
    try (var model = dev.graft.model.ModelFile.read(edge)) {
      assertEquals(4096, model.info().inputSize(), "4096 px must still load");
    }
  }

  @Test
  void labelsFromAModelFileReachTheTerminalEscaped() throws Exception {
    Path sub = java.nio.file.Files.createDirectories(dir.resolve("labels"));
    Path graft = HostileFiles.escapeLabelGraft(sub);
    Path evalData = TinyNets.digits(sub.resolve("data"), java.util.List.of("1", "4"), 2);
    // (A class folder of that name is refused up front; the label reaches the output anyway.)
    Cli.Result r = Cli.run("evaluate", "--model", graft.toString(), "--data", evalData.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("\\u001b]0;pwned\\u0007\\u001b[2J8"), r.toString());
    assertTrue(r.out().chars().noneMatch(c -> c < 0x20 && c != '\n'), r.toString());
  }

  /** One frozen epoch on {@code data} (28 px digits) from the DL4J zip {@code base}. */
  static Cli.Result trainFrozen(Path data, Path base, Path out) {
    return Cli.run(trainFrozenArgs(data, base, out));
  }

  /** The arguments of {@link #trainFrozen}. */
  static String[] trainFrozenArgs(Path data, Path base, Path out) {
    return new String[] {
      "train",
      "--data",
      data.toString(),
      "--val-split",
      "0.25",
      "--base",
      base.toString(),
      "--image-size",
      "28",
      "--strategy",
      "frozen",
      "--epochs",
      "1",
      "--out",
      out.toString()
    };
  }

  private static void expectRefused(
      Path file, String entry, java.util.function.Supplier<Cli.Result> run) {
    Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(5), run::get);
    assertEquals(2, r.code(), r.toString());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), r.toString());
    assertTrue(line.contains(file.toString()), r.toString());
    assertTrue(line.contains("entry '" + entry + "'"), r.toString());
  }
}
