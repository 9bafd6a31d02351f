package dev.graft.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.Prediction;
import dev.graft.model.TransferModel;
import dev.graft.testing.Digits;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Featurize, train Spark ML's logistic regression, export a .graft, and check that graft predict,
 * GraftPredictor and Spark agree on held-out real digits.
 */
class SparkHeadTrainingTest {
  @TempDir static Path dir;
  static Path train;
  static Path test;
  static Path base;
  static SparkSession spark;
  static PipelineModel fitted;
  static Path exported;

  @BeforeAll
  static void setUp() throws Exception {
    // A base that has seen digits 0-4 only; the head learns 5-9.
    train = Digits.data().extract(dir.resolve("train"), Digits.HIGH, 0, 30);
    test = Digits.data().extract(dir.resolve("test"), Digits.HIGH, 200, 12);
    base = SparkTesting.smallBase(dir);
    spark = SparkTesting.session();
    Pipeline pipeline =
        new Pipeline()
            .setStages(
                new PipelineStage[] {
                  new StringIndexer()
                      .setInputCol("label")
                      .setOutputCol("y")
                      .setStringOrderType("alphabetAsc"),
                  new GraftFeaturizer().setBase(base.toString()).setImageSize(28).setCut("relu3"),
                  new LogisticRegression().setLabelCol("y").setMaxIter(200).setRegParam(1e-3)
                });
    fitted = pipeline.fit(labelled(train));
    exported = dir.resolve("digits.graft");
    SparkHeads.fromLogisticRegression(
            (GraftFeaturizer) fitted.stages()[1],
            (LogisticRegressionModel) fitted.stages()[2],
            List.of(((StringIndexerModel) fitted.stages()[0]).labelsArray()[0]))
        .save(exported);
  }

  static Dataset<Row> labelled(Path folder) {
    return spark
        .read()
        .format("binaryFile")
        .load(folder + "/*/*.png")
        .withColumn("label", regexp_extract(col("path"), "/(\\d)/[^/]+$", 1));
  }

  @Test
  void exportedModelPredictsWhatSparkPredicts() throws Exception {
    List<Row> spark =
        fitted
            .transform(labelled(test))
            .select("path", "label", "prediction", "probability")
            .collectAsList();
    List<String> labels = List.of(((StringIndexerModel) fitted.stages()[0]).labelsArray()[0]);
    assertEquals(List.of("5", "6", "7", "8", "9"), labels);
    String json =
        SparkTesting.cli(
            "predict", "--model", exported.toString(), "--json", "--top", "5", test.toString());
    Map<Path, JsonNode> cli = new HashMap<>();
    for (JsonNode p : new ObjectMapper().readTree(json).get("predictions")) {
      cli.put(Path.of(p.get("image").asText()).toAbsolutePath().normalize(), p);
    }
    assertEquals(60, spark.size());
    int correct = 0;
    for (Row r : spark) {
      JsonNode p = cli.get(SparkTesting.localPath(r.getString(0)));
      String sparkLabel = labels.get((int) r.getDouble(2));
      assertEquals(sparkLabel, p.get("label").asText(), r.getString(0));
      Vector probs = (Vector) r.get(3);
      for (JsonNode l : p.get("labels")) {
        assertEquals(
            probs.apply(labels.indexOf(l.get("label").asText())),
            l.get("probability").asDouble(),
            1e-4);
      }
      correct += sparkLabel.equals(r.getString(1)) ? 1 : 0;
    }
    // Logistic regression on features of a base that never saw 5-9, 30 digits per class.
    double accuracy = correct / 60.0;
    assertTrue(accuracy >= 0.6, "held-out accuracy " + accuracy);
    TransferModel m = TransferModel.load(exported);
    assertEquals("features", m.info().strategy());
    assertEquals("spark.ml.LogisticRegression", m.info().provenance().other().get("trainer"));
    assertEquals("relu3", m.info().provenance().cut());
    assertEquals(28, m.info().inputSize());
  }

  @Test
  void graftPredictorGivesGraftPredictsResults() throws Exception {
    Dataset<Row> files = spark.read().format("binaryFile").load(test + "/*/*.png").repartition(2);
    List<Row> rows =
        new GraftPredictor()
            .setModelPath(exported.toString())
            .setTopK(2)
            .setBatchSize(8)
            .transform(files)
            .select("path", "prediction", "probability", "topK", "predictionError")
            .collectAsList();
    try (var predictor = TransferModel.load(exported).predictor(1)) {
      for (Row r : rows) {
        Path file = SparkTesting.localPath(r.getString(0));
        List<Prediction> expected = predictor.predict(file, 5);
        assertEquals(expected.get(0).label(), r.getString(1));
        Vector probs = (Vector) r.get(2);
        for (Prediction p : expected) {
          assertEquals(p.probability(), probs.apply(p.index()), 1e-5, file.toString());
        }
        List<Row> top = r.getList(3);
        assertEquals(2, top.size());
        assertEquals(expected.get(1).label(), top.get(1).getString(0));
        assertEquals(expected.get(1).index(), top.get(1).getInt(1));
        assertNull(r.get(4));
      }
    }
  }

  @Test
  void aGraftModelServesAsABaseCutBeforeItsSoftmax() throws Exception {
    Dataset<Row> files = spark.read().format("binaryFile").load(test + "/5/*.png");
    // The exported model's softmax reads the average-pooled relu3: the same features.
    Map<Path, Vector> fromModel =
        SparkTesting.byPath(
            new GraftFeaturizer().setBase(exported.toString()).transform(files),
            "path",
            "features");
    Map<Path, Vector> fromZip =
        SparkTesting.byPath(
            new GraftFeaturizer()
                .setBase(base.toString())
                .setImageSize(28)
                .setCut("relu3")
                .transform(files),
            "path",
            "features");
    assertEquals(12, fromModel.size());
    assertEquals(fromZip.keySet(), fromModel.keySet());
    for (var e : fromZip.entrySet()) {
      double rel =
          SparkTesting.relativeDifference(
              fromModel.get(e.getKey()), SparkTesting.floats(e.getValue()));
      assertTrue(rel <= 1e-5, e.getKey() + ": relative difference " + rel);
    }
  }

  @Test
  void pipelinesWithGraftStagesSurviveSaveAndLoad() throws Exception {
    Path saved = dir.resolve("fitted-pipeline");
    fitted.write().save(saved.toString());
    PipelineModel back = PipelineModel.load(saved.toString());
    Map<Path, Vector> a =
        SparkTesting.byPath(fitted.transform(labelled(test)), "path", "probability");
    Map<Path, Vector> b =
        SparkTesting.byPath(back.transform(labelled(test)), "path", "probability");
    assertEquals(a, b);

    GraftPredictor p =
        new GraftPredictor().setModelPath(exported.toString()).setTopK(4).setInputCol("path");
    Path predictorDir = dir.resolve("predictor-pipeline");
    new Pipeline()
        .setStages(new PipelineStage[] {p})
        .fit(labelled(test))
        .write()
        .save(predictorDir.toString());
    GraftPredictor reloaded =
        (GraftPredictor) PipelineModel.load(predictorDir.toString()).stages()[0];
    assertEquals(exported.toString(), reloaded.getOrDefault(reloaded.modelPath()));
    assertEquals(4, (int) (Integer) reloaded.getOrDefault(reloaded.topK()));
    assertEquals("path", reloaded.getOrDefault(reloaded.inputCol()));
  }
}
