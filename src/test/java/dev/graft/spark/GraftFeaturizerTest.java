package dev.graft.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.testing.Digits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GraftFeaturizer in local[2] on real MNIST digits, against graft featurize on the same files. */
class GraftFeaturizerTest {
  @TempDir static Path dir;
  static Path images;
  static Path base;
  static SparkSession spark;

  @BeforeAll
  static void setUp() throws Exception {
    images = Digits.data().extract(dir.resolve("images"), Digits.HIGH, 0, 8); // 40 real digits
    base = SparkTesting.smallBase(dir);
    spark = SparkTesting.session();
  }

  @Test
  void binaryContentGivesGraftFeaturizesFeatures() throws Exception {
    Map<Path, float[]> cli =
        SparkTesting.featurizeCli(
            images,
            dir.resolve("cli-relu3"),
            "--base",
            base.toString(),
            "--image-size",
            "28",
            "--cut",
            "relu3");
    Dataset<Row> files = spark.read().format("binaryFile").load(images + "/*/*.png").repartition(3);
    Dataset<Row> feats =
        new GraftFeaturizer()
            .setBase(base.toString())
            .setImageSize(28)
            .setCut("relu3")
            .setBatchSize(7)
            .setInputCol("content")
            .setOutputCol("features")
            .transform(files);
    Map<Path, Vector> spk = SparkTesting.byPath(feats, "path", "features");
    assertEquals(cli.keySet(), spk.keySet());
    for (var e : cli.entrySet()) {
      assertEquals(32, e.getValue().length); // relu3 has 32 channels, averaged over 7 x 7
      double rel = SparkTesting.relativeDifference(spk.get(e.getKey()), e.getValue());
      assertTrue(rel <= 1e-4, e.getKey() + ": relative difference " + rel);
    }
    assertEquals(0, feats.filter("featuresError is not null").count());
  }

  @Test
  void pathColumnAndCatalogBaseGiveGraftFeaturizesFeatures() throws Exception {
    Path some = Digits.data().extract(dir.resolve("few"), List.of(3, 8), 0, 5);
    Map<Path, float[]> cli =
        SparkTesting.featurizeCli(
            some,
            dir.resolve("cli-resnet"),
            "--base",
            "resnet50",
            "--weights",
            "none",
            "--image-size",
            "32");
    List<String> paths = cli.keySet().stream().map(Path::toString).sorted().toList();
    Dataset<Row> df = spark.createDataset(paths, Encoders.STRING()).toDF("path");
    Dataset<Row> feats =
        new GraftFeaturizer()
            .setBase("resnet50")
            .setWeights("none")
            .setImageSize(32)
            .setInputCol("path")
            .setOutputCol("vec")
            .setErrorCol("why")
            .transform(df);
    assertEquals(List.of("path", "vec", "why"), List.of(feats.columns()));
    Map<Path, Vector> spk = SparkTesting.byPath(feats, "path", "vec");
    for (var e : cli.entrySet()) {
      assertEquals(2048, e.getValue().length);
      double rel = SparkTesting.relativeDifference(spk.get(e.getKey()), e.getValue());
      assertTrue(rel <= 1e-4, e.getKey() + ": relative difference " + rel);
    }
  }

  @Test
  void badImagesGiveNullFeaturesAndAReasonWithoutFailingTheJob() throws Exception {
    Path bad = Files.createDirectories(dir.resolve("bad"));
    Files.copy(images.resolve("5/0000.png"), bad.resolve("good.png"));
    Files.writeString(bad.resolve("text.png"), "this is not an image");
    byte[] png = Files.readAllBytes(images.resolve("6/0001.png"));
    Files.write(bad.resolve("truncated.png"), java.util.Arrays.copyOf(png, png.length / 2));
    Dataset<Row> files = spark.read().format("binaryFile").load(bad + "/*.png");
    List<Row> rows =
        new GraftFeaturizer()
            .setBase(base.toString())
            .setImageSize(28)
            .transform(files)
            .select("path", "features", "featuresError")
            .collectAsList();
    assertEquals(3, rows.size());
    for (Row r : rows) {
      String name = SparkTesting.localPath(r.getString(0)).getFileName().toString();
      if (name.equals("good.png")) {
        assertNotNull(r.get(1));
        assertNull(r.get(2));
      } else {
        assertNull(r.get(1), name);
        assertTrue(r.getString(2).contains(name), r.getString(2));
      }
    }
    // A missing file and an empty one in a path column (binaryFile skips empty files), and a null.
    Files.write(dir.resolve("empty.png"), new byte[0]);
    List<String> paths =
        new ArrayList<>(
            List.of(
                bad.resolve("good.png").toString(),
                dir.resolve("nope.png").toString(),
                dir.resolve("empty.png").toString()));
    paths.add(null);
    Dataset<Row> df = spark.createDataset(paths, Encoders.STRING()).toDF("p");
    List<Row> out =
        new GraftFeaturizer()
            .setBase(base.toString())
            .setImageSize(28)
            .setInputCol("p")
            .transform(df)
            .collectAsList();
    assertNotNull(out.get(0).get(1));
    assertNull(out.get(1).get(1));
    assertTrue(out.get(1).getString(2).contains("nope.png"), out.get(1).getString(2));
    assertNull(out.get(2).get(1));
    assertTrue(out.get(2).getString(2).contains("empty.png: zero-byte"), out.get(2).getString(2));
    assertNull(out.get(3).get(1));
    assertTrue(out.get(3).getString(2).contains("null"), out.get(3).getString(2));
  }

  @Test
  void badSettingsAreRefusedOnTheDriverNamingTheValue() {
    Dataset<Row> files = spark.read().format("binaryFile").load(images + "/5/*.png");
    var noBase =
        assertThrows(IllegalArgumentException.class, () -> new GraftFeaturizer().transform(files));
    assertTrue(noBase.getMessage().contains("setBase"), noBase.getMessage());
    var badCol =
        assertThrows(
            IllegalArgumentException.class,
            () -> new GraftFeaturizer().setBase("resnet50").setInputCol("length").transform(files));
    assertTrue(badCol.getMessage().contains("'length'"), badCol.getMessage());
    var badResize =
        assertThrows(
            IllegalArgumentException.class,
            () -> new GraftFeaturizer().setBase("resnet50").setResize("squash").transform(files));
    assertTrue(badResize.getMessage().contains("squash"), badResize.getMessage());
  }

  @Test
  void loadsTheBaseOncePerJvmAcrossTasksAndJobs() throws Exception {
    JvmCache.clear();
    int before = SharedFeaturizer.loads();
    Dataset<Row> files = spark.read().format("binaryFile").load(images + "/*/*.png").repartition(5);
    GraftFeaturizer f = new GraftFeaturizer().setBase(base.toString()).setImageSize(28).setSeed(7);
    assertEquals(40, f.transform(files).filter("features is not null").count());
    assertEquals(40, f.transform(files).filter("features is not null").count());
    assertEquals(1, SharedFeaturizer.loads() - before);
  }

  @Test
  void savedAndReloadedInAPipeline() throws Exception {
    GraftFeaturizer f =
        new GraftFeaturizer()
            .setBase(base.toString())
            .setImageSize(28)
            .setCut("relu2")
            .setBatchSize(5)
            .setOutputCol("f2");
    Path saved = dir.resolve("featurizer");
    f.write().save(saved.toString());
    GraftFeaturizer back = GraftFeaturizer.load(saved.toString());
    assertEquals(f.uid(), back.uid());
    assertEquals("relu2", back.getOrDefault(back.cut()));
    assertEquals(5, (int) (Integer) back.getOrDefault(back.batchSize()));

    Dataset<Row> files = spark.read().format("binaryFile").load(images + "/7/*.png");
    PipelineModel model = new Pipeline().setStages(new PipelineStage[] {f}).fit(files);
    Path pipe = dir.resolve("pipeline");
    model.write().save(pipe.toString());
    PipelineModel reloaded = PipelineModel.load(pipe.toString());
    Map<Path, Vector> a = SparkTesting.byPath(model.transform(files), "path", "f2");
    Map<Path, Vector> b = SparkTesting.byPath(reloaded.transform(files), "path", "f2");
    assertEquals(8, a.size());
    assertEquals(a, b);
  }
}
