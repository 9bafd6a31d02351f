package dev.graft.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * The driver of {@link SparkClusterTest}, run in its own JVM against the standalone cluster: what a
 * user's job does. Featurizes labelled images with {@link GraftFeaturizer} as the contract outline
 * calls it, trains Spark ML's logistic regression, predicts held-out images, exports the model as a
 * .graft, and writes everything the test checks to {@code OUT/result.json}.
 *
 * <p>Arguments: {@code TRAIN_DIR TEST_DIR BASE IMAGE_SIZE CUT OUT_DIR}; the master and the rest of
 * the configuration come as {@code -Dspark.*} properties.
 */
public final class ClusterJob {
  private ClusterJob() {}

  public static void main(String[] args) throws Exception {
    Path train = Path.of(args[0]);
    Path test = Path.of(args[1]);
    String base = args[2];
    int size = Integer.parseInt(args[3]);
    String cut = args[4];
    Path out = Files.createDirectories(Path.of(args[5]));
    SparkSession spark = SparkSession.builder().appName("graft-cluster-test").getOrCreate();
    try {
      long t0 = System.nanoTime();
      Dataset<Row> images =
          spark
              .read()
              .format("binaryFile")
              .load(train + "/*/*.png")
              .withColumn("label", regexp_extract(col("path"), "/([^/]+)/[^/]+$", 1))
              .repartition(4);
      GraftFeaturizer featurizer =
          new GraftFeaturizer()
              .setBase(base)
              .setImageSize(size)
              .setPreprocess("unit")
              .setCut(cut)
              .setInputCol("content")
              .setOutputCol("features");
      Dataset<Row> feats =
          featurizer
              .transform(images)
              .drop("content")
              .withColumn(
                  "executor",
                  org.apache
                      .spark
                      .sql
                      .functions
                      .udf(
                          (org.apache.spark.sql.api.java.UDF0<String>)
                              () -> org.apache.spark.SparkEnv.get().executorId(),
                          org.apache.spark.sql.types.DataTypes.StringType)
                      .asNondeterministic()
                      .apply())
              .cache();
      List<Row> rows = feats.select("path", "features", "featuresError").collectAsList();
      long featureExecutors = feats.select("executor").distinct().count();
      double featurizeSeconds = (System.nanoTime() - t0) / 1e9;

      StringIndexerModel indexer =
          new StringIndexer()
              .setInputCol("label")
              .setOutputCol("y")
              .setStringOrderType("alphabetAsc")
              .fit(feats);
      LogisticRegressionModel lr =
          new LogisticRegression()
              .setLabelCol("y")
              .setMaxIter(100)
              .setRegParam(1e-3)
              .fit(indexer.transform(feats));
      List<String> labels = List.of(indexer.labelsArray()[0]);

      Dataset<Row> testImages =
          spark
              .read()
              .format("binaryFile")
              .load(test + "/*/*.png")
              .withColumn("label", regexp_extract(col("path"), "/([^/]+)/[^/]+$", 1));
      List<Row> predicted =
          lr.transform(featurizer.transform(testImages))
              .select("path", "label", "prediction")
              .collectAsList();
      SparkHeads.fromLogisticRegression(featurizer, lr, labels).save(out.resolve("cluster.graft"));

      ObjectMapper json = new ObjectMapper();
      ObjectNode root = json.createObjectNode();
      root.put("executors", spark.sparkContext().statusTracker().getExecutorInfos().length - 1);
      root.put("featurizeSeconds", featurizeSeconds);
      root.put("featureExecutors", featureExecutors);
      ArrayNode ls = root.putArray("labels");
      labels.forEach(ls::add);
      ObjectNode features = root.putObject("features");
      for (Row r : rows) {
        ArrayNode v = features.putArray(r.getString(0));
        if (r.isNullAt(1)) {
          throw new IllegalStateException(r.getString(0) + ": " + r.getString(2));
        }
        for (double d : ((Vector) r.get(1)).toArray()) {
          v.add(d);
        }
      }
      ObjectNode predictions = root.putObject("predictions");
      int correct = 0;
      for (Row r : predicted) {
        String label = labels.get((int) r.getDouble(2));
        predictions.put(r.getString(0), label);
        correct += label.equals(r.getString(1)) ? 1 : 0;
      }
      root.put("testAccuracy", correct / (double) predicted.size());
      Files.writeString(out.resolve("result.json"), json.writeValueAsString(root));
    } finally {
      spark.stop();
    }
  }
}
