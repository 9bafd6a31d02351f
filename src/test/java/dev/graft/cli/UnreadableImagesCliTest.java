package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code evaluate}, {@code featurize} and {@code train}'s validation on a folder holding a PNG cut
 * in half among real digits: each skips it with one warning line naming it and succeeds, as {@code
 * predict} does.
 */
class UnreadableImagesCliTest {
  static final List<String> LABELS = List.of("1", "4", "8");
  @TempDir static Path dir;
  static Path data;
  static Path cut;

  @BeforeAll
  static void setUp() throws Exception {
    data = TinyNets.digits(dir.resolve("data"), LABELS, 4);
    byte[] png = Files.readAllBytes(data.resolve("1/0000.png"));
    cut = data.resolve("4/cut-in-half.png");
    Files.write(cut, java.util.Arrays.copyOf(png, png.length / 2));
  }

  private static void warnsOnce(String command, Cli.Result r) {
    assertEquals(0, r.code(), r.toString());
    List<String> lines =
        r.err().lines().filter(l -> l.contains("warning: skipped " + cut)).toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("graft " + command + ": warning: skipped "), lines.get(0));
  }

  @Test
  void evaluateSkipsTheDamagedFile() throws Exception {
    Path model = dir.resolve("tiny.graft");
    new TransferModel(TinyNets.classifier(28, 3, 5), TinyNets.info(LABELS, 28)).save(model);
    Cli.Result r =
        Cli.run("evaluate", "--model", model.toString(), "--data", data.toString(), "--json");
    warnsOnce("evaluate", r);
    assertTrue(r.out().replace(" ", "").contains("\"images\":12"), r.out());
  }

  @Test
  void featurizeSkipsTheDamagedFile() throws Exception {
    Path base = dir.resolve("base.zip");
    ModelSerializer.writeModel(TinyNets.classifier(28, 5, 1), base.toFile(), false);
    Path out = dir.resolve("features");
    Cli.Result r =
        Cli.run(
            "featurize",
            "--base",
            base.toString(),
            "--image-size",
            "28",
            "--data",
            data.toString(),
            "--out",
            out.toString(),
            "--no-cache");
    warnsOnce("featurize", r);
    assertTrue(r.out().startsWith("wrote 12 x "), r.out());
    assertFalse(Files.readString(out.resolve("labels.csv")).contains("cut-in-half"));
  }

  @Test
  void trainValidatesOnTheReadableImages() throws Exception {
    Path base = dir.resolve("base2.zip");
    ModelSerializer.writeModel(TinyNets.classifier(28, 5, 1), base.toFile(), false);
    Path train = TinyNets.digits(dir.resolve("train"), LABELS, 6, 4);
    Cli.Result r =
        Cli.run(
            "train",
            "--data",
            train.toString(),
            "--val",
            data.toString(),
            "--base",
            base.toString(),
            "--image-size",
            "28",
            "--strategy",
            "frozen",
            "--epochs",
            "1",
            "--out",
            dir.resolve("m.graft").toString(),
            "--json");
    warnsOnce("train", r);
    assertTrue(r.out().replace(" ", "").contains("\"images\":12"), r.out());
  }
}
