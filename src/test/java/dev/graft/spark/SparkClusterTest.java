package dev.graft.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.testing.Digits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.spark.ml.linalg.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * A real cluster: a Spark standalone master and two workers as separate JVMs on 127.0.0.1, started
 * from the test class path, and a driver JVM ({@link ClusterJob}) that featurizes, trains and
 * exports on real digits. The features must equal graft featurize's, the logistic regression must
 * reach the single-machine features strategy's accuracy, and graft predict on the exported model
 * must give the cluster's predictions.
 */
class SparkClusterTest {
  @TempDir static Path dir;

  @Test
  void featurizeTrainAndExportOnAStandaloneClusterOfTwoWorkers() throws Exception {
    Path train = Digits.data().extract(dir.resolve("train"), Digits.HIGH, 0, 30);
    Path test = Digits.data().extract(dir.resolve("test"), Digits.HIGH, 200, 12);
    Path base = SparkTesting.smallBase(dir);
    Path out = dir.resolve("out");
    // Logs of every process (executors: work-*/app-*/*/stderr) stay in target/ for a failed run.
    Path logs = Path.of("target", "spark-cluster-test").toAbsolutePath();
    deleteRecursively(logs);
    try (LocalSparkCluster cluster = LocalSparkCluster.start(logs, 2, Duration.ofSeconds(180))) {
      Map<String, String> conf = cluster.driverConf("768m");
      conf.put("spark.sql.shuffle.partitions", "2");
      Path log = logs.resolve("driver.log");
      int code =
          cluster.runDriver(
              log,
              ClusterJob.class.getName(),
              conf,
              Duration.ofSeconds(600),
              train.toString(),
              test.toString(),
              base.toString(),
              "28",
              "relu3",
              out.toString());
      assertEquals(0, code, "driver failed:\n" + LocalSparkCluster.tail(log));
    }
    JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    assertEquals(2, result.get("executors").asInt(), "executors registered with the driver");
    assertTrue(
        result.get("featureExecutors").asInt() == 2, "executors that computed features: " + result);

    // Features: the cluster's equal graft featurize's, image by image.
    Map<Path, float[]> cli =
        SparkTesting.featurizeCli(
            train,
            dir.resolve("cli"),
            "--base",
            base.toString(),
            "--image-size",
            "28",
            "--preprocess",
            "unit",
            "--cut",
            "relu3");
    assertEquals(150, cli.size());
    assertEquals(150, result.get("features").size());
    for (Iterator<Map.Entry<String, JsonNode>> it = result.get("features").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      double[] v = new double[e.getValue().size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = e.getValue().get(i).asDouble();
      }
      float[] expected = cli.get(SparkTesting.localPath(e.getKey()));
      double rel = SparkTesting.relativeDifference(Vectors.dense(v), expected);
      assertTrue(rel <= 1e-4, e.getKey() + ": relative difference " + rel);
    }

    // Accuracy: the single-machine path (graft train --strategy features) on the same images.
    Path single = dir.resolve("single.graft");
    SparkTesting.cli(
        "train",
        "--data",
        train.toString(),
        "--val-split",
        "0.2",
        "--base",
        base.toString(),
        "--image-size",
        "28",
        "--cut",
        "relu3",
        "--strategy",
        "features",
        "--epochs",
        "20",
        "--out",
        single.toString());
    JsonNode eval =
        new ObjectMapper()
            .readTree(
                SparkTesting.cli(
                    "evaluate", "--model", single.toString(), "--data", test.toString(), "--json"));
    double singleAccuracy = eval.get("accuracy").asDouble();
    double clusterAccuracy = result.get("testAccuracy").asDouble();
    assertTrue(
        clusterAccuracy >= singleAccuracy - 0.05,
        "cluster " + clusterAccuracy + " vs single machine " + singleAccuracy);

    // The exported model: graft predict gives the cluster's predictions.
    Path model = out.resolve("cluster.graft");
    assertTrue(Files.isRegularFile(model));
    JsonNode predicted =
        new ObjectMapper()
            .readTree(
                SparkTesting.cli(
                    "predict",
                    "--model",
                    model.toString(),
                    "--json",
                    "--top",
                    "1",
                    test.toString()));
    Map<Path, String> byFile = new HashMap<>();
    for (JsonNode p : predicted.get("predictions")) {
      byFile.put(
          Path.of(p.get("image").asText()).toAbsolutePath().normalize(), p.get("label").asText());
    }
    assertEquals(60, result.get("predictions").size());
    for (Iterator<Map.Entry<String, JsonNode>> it = result.get("predictions").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      assertEquals(
          e.getValue().asText(), byFile.get(SparkTesting.localPath(e.getKey())), e.getKey());
    }
  }

  private static void deleteRecursively(Path p) throws java.io.IOException {
    if (Files.exists(p)) {
      try (var s = Files.walk(p)) {
        for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(q);
        }
      }
    }
  }
}
