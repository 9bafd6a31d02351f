package dev.graft.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The Java example of docs/spark.md, verbatim, so that the build compiles it: train a classifier on
 * a folder of labelled photos (one subfolder per class) on a cluster, export it as a .graft.
 */
public final class SparkExample {
  private SparkExample() {}

  public static void main(String[] args) throws Exception {
    SparkSession spark = SparkSession.builder().appName("graft-products").getOrCreate();
    Dataset<Row> images =
        spark
            .read()
            .format("binaryFile")
            .load(args[0] + "/*/*.jpg")
            .withColumn("label", regexp_extract(col("path"), "/([^/]+)/[^/]+$", 1));

    GraftFeaturizer featurizer =
        new GraftFeaturizer()
            .setBase("resnet50")
            .setWeights("imagenet")
            .setInputCol("content")
            .setOutputCol("features");
    Dataset<Row> features =
        featurizer
            .transform(images)
            .filter(col("featuresError").isNull()) // unreadable images: null features + reason
            .drop("content")
            .cache();

    StringIndexerModel indexer =
        new StringIndexer().setInputCol("label").setOutputCol("y").fit(features);
    LogisticRegressionModel lr =
        new LogisticRegression()
            .setLabelCol("y")
            .setRegParam(1e-3)
            .fit(indexer.transform(features));

    // base + softmax head + labels + provenance: graft predict and Predictor load it anywhere
    SparkHeads.fromLogisticRegression(featurizer, lr, List.of(indexer.labelsArray()[0]))
        .save(Path.of(args[1]));
    spark.stop();
  }
}
