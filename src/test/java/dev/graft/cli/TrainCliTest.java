package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** train → evaluate → predict end to end on real digit folders, through the command line. */
class TrainCliTest {
  static final List<String> LABELS = List.of("1", "4", "8");
  @TempDir static Path dir;
  static Path train;
  static Path test;
  static Path baseZip;

  @BeforeAll
  static void setUp() throws Exception {
    train = TinyNets.digits(dir.resolve("train"), LABELS, 0, 12);
    test = TinyNets.digits(dir.resolve("test"), LABELS, 12, 8);
    baseZip = dir.resolve("tiny-base.zip");
    ModelSerializer.writeModel(TinyNets.classifier(28, 5, 1), baseZip.toFile(), false);
  }

  @Test
  void trainEvaluatePredictOnAModelFileWrittenToDisk() throws Exception {
    Path model = dir.resolve("digits.graft");
    Path report = dir.resolve("report");
    Cli.Result t =
        Cli.run(
            "train",
            "--data",
            train.toString(),
            "--val-split",
            "0.25",
            "--base",
            baseZip.toString(),
            "--image-size",
            "28",
            "--strategy",
            "frozen",
            "--epochs",
            "3",
            "--batch",
            "8",
            "--lr",
            "0.003",
            "--seed",
            "7",
            "--out",
            model.toString(),
            "--report",
            report.toString());
    assertEquals(0, t.code(), t.toString());
    assertTrue(t.out().contains("model: " + model), t.out());
    assertTrue(
        t.err().contains("epochs") && t.err().contains("3/3"), "epoch progress bar: " + t.err());
    TransferModel loaded = TransferModel.load(model);
    assertEquals(LABELS, loaded.labels());
    assertEquals("frozen", loaded.info().strategy());
    assertEquals(3, loaded.info().history().size());
    assertEquals(28, loaded.info().inputSize());
    assertTrue(loaded.info().provenance().data().startsWith(train.toString()));

    String html = Files.readString(report.resolve("index.html"));
    for (String s :
        List.of(
            "class=\"curves\"",
            "class=\"confusion\"",
            "class=\"per-class\"",
            "class=\"settings\"")) {
      assertTrue(html.contains(s), s);
    }
    assertTrue(html.split("data:image/png;base64,").length - 1 >= 3, "charts embedded");

    Cli.Result e =
        Cli.run("evaluate", "--model", model.toString(), "--data", test.toString(), "--json");
    assertEquals(0, e.code(), e.toString());
    JsonNode ev = new ObjectMapper().readTree(e.out());
    assertEquals(24, ev.get("images").asInt());
    assertEquals(
        loaded.evaluate(dev.graft.data.ImageFolder.of(test)).accuracy(),
        ev.get("accuracy").asDouble(),
        1e-12);

    Path img = test.resolve("8/0015.png");
    Cli.Result p =
        Cli.run("predict", "--model", model.toString(), "--json", "--top", "2", img.toString());
    assertEquals(0, p.code(), p.toString());
    JsonNode pr = new ObjectMapper().readTree(p.out()).get("predictions").get(0);
    var expected = loaded.predict(img, 2);
    assertEquals(expected.get(0).label(), pr.get("label").asText());
    assertEquals(expected.get(1).label(), pr.get("labels").get(1).get("label").asText());
    assertEquals(expected.get(0).probability(), pr.get("probability").asDouble(), 1e-6);
  }

  @Test
  void finetuneAndFeaturesStrategiesTrainToo() throws Exception {
    for (String[] s :
        List.of(new String[] {"finetune", "--unfreeze", "1"}, new String[] {"features"})) {
      Path model = dir.resolve(s[0] + ".graft");
      String[] args = {
        "train",
        "--data",
        train.toString(),
        "--val",
        test.toString(),
        "--base",
        baseZip.toString(),
        "--image-size",
        "28",
        "--strategy",
        s[0],
        "--epochs",
        "2",
        "--batch",
        "8",
        "--out",
        model.toString()
      };
      if (s.length > 1) {
        args = concat(args, s[1], s[2]);
      }
      Cli.Result r = Cli.run(args);
      assertEquals(0, r.code(), r.toString());
      TransferModel trained = TransferModel.load(model);
      assertEquals(s[0], trained.info().strategy());
      assertTrue(r.out().contains("validation accuracy:"), r.out());
      // --unfreeze 1: exactly the last base layer with parameters (fc) trained; every other base
      // layer is bit-identical to the base file. features: the whole base is.
      ComputationGraph base = ModelSerializer.restoreComputationGraph(baseZip.toFile(), false);
      List<String> unfrozen = trained.info().provenance().unfrozen();
      assertEquals(
          s[0].equals("finetune") ? List.of("fc") : List.of(),
          unfrozen,
          trained.info().settings().toString());
      for (String layer : List.of("conv1", "conv2", "fc")) {
        boolean same =
            base.getLayer(layer).params().equals(trained.network().getLayer(layer).params());
        assertEquals(!unfrozen.contains(layer), same, s[0] + ": " + layer);
      }
    }
  }

  @Test
  void featurizeWritesANpyMatrixAndLabels() throws Exception {
    Path out = dir.resolve("features");
    Cli.Result r =
        Cli.run(
            "featurize",
            "--base",
            "vgg16",
            "--weights",
            "none",
            "--image-size",
            "32",
            "--data",
            test.toString(),
            "--out",
            out.toString());
    assertEquals(0, r.code(), r.toString());
    byte[] npy = Files.readAllBytes(out.resolve("features.npy"));
    assertEquals((byte) 0x93, npy[0]);
    int headerLen = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    String header = new String(npy, 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(header.contains("'shape': (24, 512)"), header);
    assertEquals(0, (10 + headerLen) % 64, "header padded to 64 bytes");
    assertEquals(10 + headerLen + 24 * 512 * 4, npy.length);
    ByteBuffer data =
        ByteBuffer.wrap(npy, 10 + headerLen, 24 * 512 * 4).order(ByteOrder.LITTLE_ENDIAN);
    boolean nonZero = false;
    for (int i = 0; i < 24 * 512; i++) {
      float v = data.getFloat();
      assertTrue(Float.isFinite(v));
      nonZero |= v != 0;
    }
    assertTrue(nonZero);
    List<String> csv = Files.readAllLines(out.resolve("labels.csv"));
    assertEquals("row,label,class_index,path", csv.get(0));
    assertEquals(25, csv.size());
    assertTrue(csv.get(1).startsWith("0,1,0,"), csv.get(1));
    assertEquals(LABELS, Files.readAllLines(out.resolve("classes.txt")));
    JsonNode meta = new ObjectMapper().readTree(out.resolve("featurize.json").toFile());
    assertEquals(512, meta.get("dimension").asInt());
    assertEquals("vgg16", meta.get("base").asText());
    assertTrue(r.err().contains("featurizing"), r.err());
  }

  @Test
  void fewLabelsByDefaultFitALogisticRegressionOnEveryImage() throws Exception {
    Path model = dir.resolve("logreg.graft");
    Cli.Result r =
        Cli.run(
            "train",
            "--data",
            train.toString(),
            "--base",
            baseZip.toString(),
            "--image-size",
            "28",
            "--strategy",
            "features",
            "--resize",
            "pad",
            "--pad-margin",
            "0.1",
            "--out",
            model.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.err().contains("few labels (smallest class: 12 images < 30)"), r.err());
    assertTrue(r.out().contains("head: logistic regression fitted to convergence"), r.out());
    TransferModel m = TransferModel.load(model);
    assertEquals(1, m.info().history().size());
    assertTrue(
        m.info().provenance().l2Selection().contains("5-fold"), m.info().settings().toString());
    assertEquals("none", m.info().provenance().validation());
    assertEquals("PAD(margin=0.1,fill=edge)", m.info().resize().name());
    Cli.Result e =
        Cli.run("evaluate", "--model", model.toString(), "--data", test.toString(), "--json");
    assertEquals(0, e.code(), e.toString());
    double acc = new ObjectMapper().readTree(e.out()).get("accuracy").asDouble();
    assertTrue(acc > 0.5, "held-out accuracy " + acc);
  }

  @Test
  void lrFindSuggestsARateAndDrawsTheCurve() throws Exception {
    Path report = dir.resolve("lr-report");
    Cli.Result r =
        Cli.run(
            "lr-find",
            "--data",
            train.toString(),
            "--base",
            baseZip.toString(),
            "--image-size",
            "28",
            "--strategy",
            "features",
            "--batch",
            "8",
            "--report",
            report.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("suggested learning rate"), r.out());
    String html = Files.readString(report.resolve("index.html"));
    assertTrue(html.contains("class=\"lr-find\""), "lr-find section");
    assertTrue(html.contains("data:image/png;base64,"), "curve drawn");
    String d = train.toString();
    String b = baseZip.toString();
    Cli.Result bad = Cli.run("lr-find", "--data", d, "--base", b, "--strategy", "x");
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(bad.err().contains("--strategy"), bad.err());
    // the strategy flags are train's own (one mixin): --unfreeze is refused the same way
    Cli.Result unfreeze =
        Cli.run("lr-find", "--data", d, "--base", b, "--strategy", "frozen", "--unfreeze", "2");
    assertEquals(2, unfreeze.code(), unfreeze.toString());
    assertTrue(
        unfreeze.err().contains("--unfreeze: only applies to --strategy finetune"), unfreeze.err());
  }

  @Test
  void badTrainUsageExitsTwoNamingTheFlag() throws Exception {
    String d = train.toString();
    String b = baseZip.toString();
    String o = dir.resolve("x.graft").toString();
    Object[][] cases = {
      {
        new String[] {"train", "--data", d, "--base", b, "--strategy", "bogus", "--out", o},
        "--strategy"
      },
      {
        new String[] {
          "train", "--data", d, "--base", b, "--strategy", "frozen", "--unfreeze", "2", "--out", o
        },
        "--unfreeze"
      },
      {new String[] {"train", "--data", d, "--base", b, "--strategy", "frozen"}, "--out"},
      {
        new String[] {
          "train",
          "--data",
          d,
          "--base",
          b,
          "--strategy",
          "finetune",
          "--head",
          "logreg",
          "--out",
          o
        },
        "--head"
      },
      {
        new String[] {
          "train", "--data", d, "--base", b, "--strategy", "frozen", "--head", "svm", "--out", o
        },
        "--head"
      },
      {
        new String[] {
          "train",
          "--data",
          d,
          "--base",
          b,
          "--strategy",
          "frozen",
          "--pad-margin",
          "0.1",
          "--out",
          o
        },
        "--pad-margin"
      },
      {
        new String[] {
          "train",
          "--data",
          dir.resolve("nope").toString(),
          "--base",
          b,
          "--strategy",
          "frozen",
          "--out",
          o
        },
        "--data"
      },
      {
        new String[] {
          "train",
          "--data",
          d,
          "--base",
          dir.resolve("nope.zip").toString(),
          "--strategy",
          "frozen",
          "--out",
          o
        },
        "--base"
      },
      {
        new String[] {
          "train", "--data", d, "--base", "alexnet", "--strategy", "frozen", "--out", o
        },
        "--base"
      },
      {
        new String[] {
          "train",
          "--data",
          d,
          "--base",
          b,
          "--strategy",
          "frozen",
          "--val-split",
          "1.5",
          "--out",
          o
        },
        "--val-split"
      },
      {
        new String[] {
          "train",
          "--data",
          d,
          "--base",
          b,
          "--strategy",
          "frozen",
          "--val",
          d,
          "--val-split",
          "0.1",
          "--out",
          o
        },
        "--val"
      },
      {
        new String[] {
          "train", "--data", d, "--base", b, "--strategy", "frozen", "--epochs", "0", "--out", o
        },
        "--epochs"
      },
      {
        new String[] {
          "train",
          "--data",
          d,
          "--base",
          b,
          "--strategy",
          "frozen",
          "--preprocess",
          "sepia",
          "--out",
          o
        },
        "--preprocess"
      },
      {new String[] {"featurize", "--base", b, "--data", d}, "--out"},
    };
    for (Object[] c : cases) {
      String[] args = (String[]) c[0];
      Cli.Result r = Cli.run(args);
      String what = String.join(" ", args);
      assertEquals(2, r.code(), what + "\n" + r);
      assertEquals(1, r.err().strip().lines().count(), "one line: " + what + "\n" + r);
      assertTrue(r.err().contains((String) c[1]), "names " + c[1] + ": " + r.err());
    }
    assertTrue(!Files.exists(dir.resolve("x.graft")));
  }

  @Test
  void anUnwritableOutOrReportIsRefusedBeforeTraining() throws Exception {
    Path aFile = Files.writeString(dir.resolve("plain-file"), "x");
    String[] common = {
      "train",
      "--data",
      train.toString(),
      "--base",
      baseZip.toString(),
      "--image-size",
      "28",
      "--strategy",
      "frozen",
      "--epochs",
      "1"
    };
    for (String[] c :
        List.of(
            new String[] {"--out", aFile.resolve("m.graft").toString()},
            new String[] {
              "--out", dir.resolve("ok.graft").toString(), "--report", aFile.resolve("r").toString()
            })) {
      Cli.Result r = Cli.run(concat(common, c));
      String flag = c[c.length - 2];
      assertEquals(2, r.code(), r.toString());
      assertTrue(r.err().contains(flag + ": cannot write"), r.err());
      assertTrue(r.err().contains(aFile + " is a file, not a directory"), r.err());
      assertTrue(!r.err().contains("epoch"), "refused before training: " + r.err());
    }
    assertTrue(!Files.exists(dir.resolve("ok.graft")));
  }

  @Test
  void resumeRefusesAnotherRunsCheckpointAndADamagedOneWithExit2() throws Exception {
    Path model = dir.resolve("resume/m.graft");
    String[] common = {
      "train",
      "--data",
      train.toString(),
      "--base",
      baseZip.toString(),
      "--image-size",
      "28",
      "--strategy",
      "frozen",
      "--batch",
      "8",
      "--val-split", // 12 images a class: without it, nothing would be held out
      "0.25",
      "--out",
      model.toString()
    };
    Path ckpt = dir.resolve("resume/m.graft.ckpt");
    Cli.Result fresh = Cli.run(concat(common, "--epochs", "2", "--resume", "--keep-checkpoint"));
    assertEquals(0, fresh.code(), fresh.toString());
    assertTrue(fresh.err().contains("no checkpoint at " + ckpt + ": starting afresh"), fresh.err());
    assertTrue(fresh.out().contains("checkpoint: " + ckpt), fresh.out());
    assertTrue(Files.isRegularFile(ckpt));

    Cli.Result other = Cli.run(concat(common, "--epochs", "3", "--resume"));
    assertEquals(2, other.code(), other.toString());
    assertTrue(other.err().contains("epochs was '2', now '3'"), other.err());

    byte[] bytes = Files.readAllBytes(ckpt);
    Files.write(ckpt, java.util.Arrays.copyOf(bytes, bytes.length - 100));
    Cli.Result damaged = Cli.run(concat(common, "--epochs", "2", "--resume", "--json"));
    assertEquals(2, damaged.code(), damaged.toString());
    assertTrue(damaged.err().contains("checkpoint " + ckpt + " is damaged"), damaged.err());
    assertEquals("", damaged.out());

    Files.delete(ckpt);
    Path cache = dir.resolve("resume/activations");
    Cli.Result json =
        Cli.run(concat(common, "--epochs", "2", "--json", "--cache", cache.toString()));
    assertEquals(0, json.code(), json.toString());
    JsonNode j = new ObjectMapper().readTree(json.out());
    assertEquals(model.toString(), j.get("model").asText());
    assertEquals(2, j.get("epochs").asInt());
    assertEquals(0, j.get("resumedFromEpoch").asInt());
    assertTrue(j.get("validation").get("accuracy").isNumber(), json.out());
    assertTrue(j.get("bestEpoch").asInt() >= 1 && j.get("bestEpoch").asInt() <= 2, json.out());
    assertTrue(!Files.exists(ckpt), "checkpoint deleted once the model is written");
    try (var files = Files.walk(cache)) {
      assertTrue(files.anyMatch(Files::isRegularFile), "activations kept on disk under --cache");
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
