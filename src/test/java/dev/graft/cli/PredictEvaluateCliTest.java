package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import dev.graft.testing.StdErr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** predict and evaluate on a model file written to disk (a tiny CNN, not trained). */
class PredictEvaluateCliTest {
  static final List<String> LABELS = List.of("1", "4", "8");
  @TempDir static Path dir;
  static Path model;
  static Path data;

  @BeforeAll
  static void setUp() throws Exception {
    model = dir.resolve("tiny.graft");
    new TransferModel(TinyNets.classifier(28, 3, 5), TinyNets.info(LABELS, 28)).save(model);
    data = TinyNets.digits(dir.resolve("data"), LABELS, 5);
  }

  @Test
  void predictTextAndJsonAgree() throws Exception {
    Path img = data.resolve("4/0002.png");
    Cli.Result text = Cli.run("predict", "--model", model.toString(), "--top", "2", img.toString());
    assertEquals(0, text.code(), text.toString());
    assertTrue(text.out().startsWith(img + ": "), text.out());
    assertEquals(1, text.out().lines().count());

    Cli.Result json =
        Cli.run(
            "predict",
            "--model",
            model.toString(),
            "--json",
            "--top",
            "3",
            img.toString(),
            data.resolve("8").toString());
    assertEquals(0, json.code(), json.toString());
    JsonNode root = new ObjectMapper().readTree(json.out());
    JsonNode preds = root.get("predictions");
    assertEquals(1 + 5, preds.size(), "one file plus a directory of five");
    JsonNode first = preds.get(0);
    assertEquals(img.toString(), first.get("image").asText());
    assertEquals(3, first.get("labels").size());
    double sum = 0;
    for (JsonNode l : first.get("labels")) {
      assertTrue(LABELS.contains(l.get("label").asText()));
      sum += l.get("probability").asDouble();
    }
    assertEquals(1.0, sum, 1e-4);
    assertEquals(first.get("labels").get(0).get("label").asText(), first.get("label").asText());
    assertTrue(
        text.out().contains(first.get("label").asText() + " ("), "text shows the same top label");
    var expected = TransferModel.load(model).predict(img, 1).get(0);
    assertEquals(expected.label(), first.get("label").asText());
    assertEquals(expected.probability(), first.get("probability").asDouble(), 1e-6);
  }

  @Test
  void evaluateJsonHasAccuracyPerClassAndConfusion() throws Exception {
    Cli.Result r =
        Cli.run(
            "evaluate",
            "--model",
            model.toString(),
            "--data",
            data.toString(),
            "--json",
            "--report",
            dir.resolve("rep").toString());
    assertEquals(0, r.code(), r.toString());
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertEquals(15, root.get("images").asInt());
    double acc = root.get("accuracy").asDouble();
    assertTrue(acc >= 0 && acc <= 1);
    assertEquals(3, root.get("perClass").size());
    assertEquals("1", root.get("perClass").get(0).get("label").asText());
    assertTrue(root.get("perClass").get(2).has("f1"));
    int total = 0;
    int diagonal = 0;
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        int v = root.get("confusion").get(i).get(j).asInt();
        total += v;
        diagonal += i == j ? v : 0;
      }
      int rowSum = 0;
      for (JsonNode v : root.get("confusion").get(i)) {
        rowSum += v.asInt();
      }
      assertEquals(5, rowSum, "row " + i);
    }
    assertEquals(15, total);
    assertEquals(diagonal / 15.0, acc, 1e-9);
    String html = Files.readString(dir.resolve("rep/index.html"));
    assertTrue(html.contains("class=\"confusion\""));
    // the model's head is pooling, a hidden ReLU layer, then the softmax: Grad-CAM covers it
    assertTrue(html.contains("Grad-CAM: where the evidence is"), "Grad-CAM section");

    Cli.Result text = Cli.run("evaluate", "--model", model.toString(), "--data", data.toString());
    assertEquals(0, text.code(), text.toString());
    assertTrue(
        text.out().contains(String.format(java.util.Locale.ROOT, "accuracy:  %.4f", acc)),
        text.out());
    assertTrue(text.out().contains("confusion matrix"));
    assertTrue(text.err().contains("evaluating"), "progress bar on stderr: " + text.err());

    // A test folder may hold a single class of the model's; an unknown class is named.
    Path one = TinyNets.digits(dir.resolve("one"), List.of("8"), 2);
    Cli.Result single =
        Cli.run("evaluate", "--model", model.toString(), "--data", one.toString(), "--json");
    assertEquals(0, single.code(), single.toString());
    assertEquals(2, new ObjectMapper().readTree(single.out()).get("images").asInt());
    Path unknown = TinyNets.digits(dir.resolve("unknown"), List.of("8", "9"), 1);
    Cli.Result bad = Cli.run("evaluate", "--model", model.toString(), "--data", unknown.toString());
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(
        bad.err().startsWith("graft evaluate: error: --data: ")
            && bad.err().contains(unknown.resolve("9") + " is not one of the labels"),
        bad.err());
  }

  @Test
  void badInputExitsTwoWithOneLineNamingTheCulprit() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.graft"), "not a model");
    Path notImage = Files.writeString(dir.resolve("notes.png"), "not an image");
    Path unknownClass = TinyNets.digits(dir.resolve("unknown-class"), List.of("1", "9"), 2);
    Object[][] cases = {
      {
        new String[] {"predict", "--model", dir.resolve("absent.graft").toString(), "x.png"},
        "--model"
      },
      {
        new String[] {"predict", "--model", junk.toString(), data.resolve("1/0000.png").toString()},
        "junk.graft"
      },
      {
        new String[] {"predict", "--model", model.toString(), dir.resolve("nope.png").toString()},
        "nope.png"
      },
      {new String[] {"predict", "--model", model.toString(), notImage.toString()}, "notes.png"},
      {
        new String[] {"predict", "--model", model.toString(), "--top", "0", notImage.toString()},
        "--top"
      },
      {new String[] {"predict", "--model", model.toString()}, "IMAGE"},
      {new String[] {"predict", "--top", "x", "--model", model.toString(), "a.png"}, "--top"},
      {
        new String[] {
          "evaluate", "--model", model.toString(), "--data", dir.resolve("none").toString()
        },
        "--data"
      },
      {new String[] {"evaluate", "--model", model.toString()}, "--data"},
      {
        new String[] {"evaluate", "--model", model.toString(), "--data", unknownClass.toString()},
        "--data: "
      },
      {
        new String[] {
          "evaluate", "--bogus", "--model", model.toString(), "--data", data.toString()
        },
        "--bogus"
      },
      {new String[] {"frobnicate"}, "frobnicate"},
      {new String[] {}, "missing command"},
    };
    for (Object[] c : cases) {
      String[] args = (String[]) c[0];
      Cli.Result r = Cli.run(args);
      String what = String.join(" ", args);
      assertEquals(2, r.code(), what + "\n" + r);
      assertEquals(1, r.err().strip().lines().count(), "one line: " + what + "\n" + r);
      assertTrue(r.err().contains((String) c[1]), "names " + c[1] + ": " + r.err());
      assertTrue(!r.err().contains("\tat "), "no stack trace without --verbose");
    }
    Cli.Result verbose =
        Cli.run("predict", "--verbose", "--model", junk.toString(), notImage.toString());
    assertEquals(2, verbose.code());
    assertTrue(verbose.err().contains("\tat "), "stack trace with --verbose:\n" + verbose.err());
  }

  @Test
  void helpOnEveryCommand() throws Exception {
    List<String> commands =
        List.of("train", "evaluate", "predict", "featurize", "demo", "lr-find", "cache");
    // picocli reads descriptions as format strings and warns on System.err about a lone '%'
    StdErr.Captured<Void> help =
        StdErr.capture(
            () -> {
              for (String cmd : commands) {
                Cli.Result r = Cli.run(cmd, "--help");
                assertEquals(0, r.code(), cmd);
                assertTrue(r.out().contains("Usage: graft " + cmd), r.out());
                assertTrue(r.out().contains("--verbose"), cmd + " documents --verbose");
                if (cmd.equals("predict") || cmd.equals("evaluate")) {
                  assertTrue(
                      r.out().replaceAll("\\s+", " ").contains("90 % central crop"),
                      cmd + " --tta help: " + r.out());
                }
              }
              return null;
            });
    assertEquals("", help.text(), "help warnings");
    Cli.Result top = Cli.run("--help");
    assertEquals(0, top.code());
    for (String cmd : List.of("train", "evaluate", "predict", "featurize", "demo")) {
      assertTrue(top.out().contains(cmd), top.out());
    }
    assertTrue(Cli.run("--version").out().startsWith("graft "));
  }

  @Test
  void unreadableImagesAreSkippedAndReported() throws Exception {
    Path mixed = Files.createDirectories(dir.resolve("mixed"));
    Files.copy(data.resolve("1/0000.png"), mixed.resolve("a.png"));
    Files.writeString(mixed.resolve("b.png"), "not an image");
    Files.copy(data.resolve("8/0001.png"), mixed.resolve("c.png"));
    Cli.Result text = Cli.run("predict", "--model", model.toString(), mixed.toString());
    assertEquals(0, text.code(), text.toString());
    assertEquals(3, text.out().lines().count(), "two predictions and a summary: " + text.out());
    assertTrue(text.out().contains("skipped 1 unreadable image"), text.out());
    assertTrue(text.err().contains("warning: skipped " + mixed.resolve("b.png")), text.err());

    Cli.Result json = Cli.run("predict", "--model", model.toString(), "--json", mixed.toString());
    assertEquals(0, json.code(), json.toString());
    JsonNode root = new ObjectMapper().readTree(json.out());
    assertEquals(2, root.get("predictions").size());
    assertEquals(
        mixed.resolve("c.png").toString(), root.get("predictions").get(1).get("image").asText());
    assertEquals(1, root.get("skipped").size());
    assertEquals(
        mixed.resolve("b.png").toString(), root.get("skipped").get(0).get("image").asText());
    assertTrue(
        root.get("skipped").get(0).get("reason").asText().contains("not an image"), json.out());

    Cli.Result strict =
        Cli.run("predict", "--model", model.toString(), "--strict", mixed.toString());
    assertEquals(2, strict.code(), strict.toString());
    assertTrue(strict.err().contains("b.png"), strict.err());
    assertEquals(1, strict.err().strip().lines().count(), strict.toString());
  }
}
