package dev.graft.spark;

import dev.graft.cli.GraftCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The throughput figures of docs/spark.md (a main, not a test): {@code graft featurize} in this
 * JVM, then {@link GraftFeaturizer} on the same images through the Spark master given by {@code
 * -Dspark.master} (local[2], or a standalone cluster). Each is run twice; the second, warm run is
 * the figure (the base is then already loaded in the executors, as in a long job).
 *
 * <p>Arguments: {@code IMAGES_DIR BASE WEIGHTS IMAGE_SIZE WORK_DIR [cli|spark|both|cluster=N]};
 * with {@code cluster=N} it starts a {@link LocalSparkCluster} of N one-core workers and runs
 * itself there as the driver, in {@code spark} mode.
 */
public final class SparkThroughput {
  private SparkThroughput() {}

  public static void main(String[] args) throws Exception {
    Path images = Path.of(args[0]);
    String base = args[1];
    String weights = args[2];
    int size = Integer.parseInt(args[3]);
    Path work = Files.createDirectories(Path.of(args[4]));
    String which = args.length > 5 ? args[5] : "both";
    if (which.startsWith("cluster=")) {
      int workers = Integer.parseInt(which.substring("cluster=".length()));
      try (LocalSparkCluster c =
          LocalSparkCluster.start(
              work.resolve("cluster"), workers, java.time.Duration.ofMinutes(3))) {
        java.util.Map<String, String> conf = c.driverConf("1g");
        Path log = work.resolve("driver.log");
        int code =
            c.runDriver(
                log,
                SparkThroughput.class.getName(),
                conf,
                java.time.Duration.ofMinutes(20),
                args[0],
                base,
                weights,
                args[3],
                work.resolve("driver").toString(),
                "spark");
        System.out.println(
            LocalSparkCluster.tail(log)
                .lines()
                .filter(l -> l.startsWith("GraftFeaturizer"))
                .reduce("", (a, b) -> a + b + "\n"));
        System.exit(code);
      }
    }
    long n;
    try (var s = Files.walk(images)) {
      n = s.filter(p -> p.toString().endsWith(".png") || p.toString().endsWith(".jpg")).count();
    }
    if (!which.equals("spark")) {
      for (int run = 1; run <= 2; run++) {
        long t0 = System.nanoTime();
        int code =
            GraftCli.commandLine(
                    new PrintWriter(new StringWriter()), new PrintWriter(System.err, true))
                .execute(
                    "featurize",
                    "--base",
                    base,
                    "--weights",
                    weights,
                    "--image-size",
                    Integer.toString(size),
                    "--data",
                    images.toString(),
                    "--out",
                    work.resolve("cli").toString());
        report("graft featurize (one JVM)", run, n, t0, code);
      }
    }
    if (!which.equals("cli")) {
      SparkSession spark = SparkSession.builder().appName("graft-throughput").getOrCreate();
      try {
        Dataset<Row> files = spark.read().format("binaryFile").load(images + "/*/*").cache();
        files.count();
        GraftFeaturizer f =
            new GraftFeaturizer().setBase(base).setWeights(weights).setImageSize(size);
        for (int run = 1; run <= 2; run++) {
          long t0 = System.nanoTime();
          long ok = f.transform(files).filter("featuresError is null").count();
          report(
              "GraftFeaturizer on "
                  + spark.sparkContext().master()
                  + " ("
                  + spark.sparkContext().defaultParallelism()
                  + " task slots)",
              run,
              n,
              t0,
              ok == n ? 0 : 1);
        }
      } finally {
        spark.stop();
      }
    }
  }

  private static void report(String what, int run, long n, long t0, int code) {
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "%s, run %d: %d images in %.1f s = %.1f images/s%s%n",
        what,
        run,
        n,
        s,
        n / s,
        code == 0 ? "" : " (FAILED: " + code + ")");
  }
}
