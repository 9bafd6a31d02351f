package dev.graft.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.cli.GraftCli;
import dev.graft.testing.SmallNets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.util.ModelSerializer;

/** Shared pieces of the Spark tests: one local[2] session per test JVM, the CLI, .npy files. */
final class SparkTesting {
  private static SparkSession session;

  private SparkTesting() {}

  /** A local[2] session on 127.0.0.1, made once per JVM (Spark stops it at JVM exit). */
  static synchronized SparkSession session() {
    if (session == null) {
      session =
          SparkSession.builder()
              .master("local[2]")
              .appName("graft-tests")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "2")
              .getOrCreate();
    }
    return session;
  }

  /** The test CNN trained on digits 0-4, saved as a DL4J zip: a base of one's own. */
  static Path smallBase(Path dir) throws IOException {
    Path zip = dir.resolve("small-base.zip");
    if (!Files.exists(zip)) {
      ModelSerializer.writeModel(SmallNets.pretrainedOnLowDigits(), zip.toFile(), false);
    }
    return zip;
  }

  /** Runs the graft command line in this JVM; fails the test unless it exits 0. */
  static String cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        GraftCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    assertEquals(0, code, "graft " + String.join(" ", args) + "\n" + out + "\n" + err);
    return out.toString();
  }

  /** {@code graft featurize}'s rows, by absolute image path. */
  static Map<Path, float[]> featurizeCli(Path data, Path out, String... options)
      throws IOException {
    String[] args = new String[options.length + 5];
    args[0] = "featurize";
    args[1] = "--data";
    args[2] = data.toString();
    args[3] = "--out";
    args[4] = out.toString();
    System.arraycopy(options, 0, args, 5, options.length);
    cli(args);
    float[][] rows = readNpy(out.resolve("features.npy"));
    List<String> csv = Files.readAllLines(out.resolve("labels.csv"), StandardCharsets.UTF_8);
    Map<Path, float[]> byPath = new HashMap<>();
    for (int i = 1; i < csv.size(); i++) {
      String[] f = csv.get(i).split(",", 4);
      byPath.put(Path.of(f[3]).toAbsolutePath().normalize(), rows[Integer.parseInt(f[0])]);
    }
    return byPath;
  }

  /** A float32 C-order 2-D .npy file. */
  static float[][] readNpy(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    int headerLen = b.getShort(8) & 0xffff;
    String header = new String(b.array(), 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(header.contains("'<f4'"), header);
    String shape = header.substring(header.indexOf("'shape': (") + 10, header.indexOf(')'));
    String[] dims = shape.split(",");
    int n = Integer.parseInt(dims[0].trim());
    int f = Integer.parseInt(dims[1].trim());
    b.position(10 + headerLen);
    float[][] out = new float[n][f];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < f; j++) {
        out[i][j] = b.getFloat();
      }
    }
    return out;
  }

  /** Spark's feature vectors by absolute local path (from a {@code path} column). */
  static Map<Path, Vector> byPath(Dataset<Row> rows, String pathCol, String vectorCol) {
    Map<Path, Vector> out = new HashMap<>();
    for (Row r : rows.select(pathCol, vectorCol).collectAsList()) {
      out.put(localPath(r.getString(0)), r.isNullAt(1) ? null : (Vector) r.get(1));
    }
    return out;
  }

  /** A {@code file:} URI or a plain path as an absolute normalised path. */
  static Path localPath(String s) {
    return (s.startsWith("file:") ? Path.of(URI.create(s)) : Path.of(s))
        .toAbsolutePath()
        .normalize();
  }

  /** A vector's values as floats. */
  static float[] floats(Vector v) {
    float[] f = new float[v.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) v.apply(i);
    }
    return f;
  }

  /**
   * The largest difference between {@code actual} and {@code expected} relative to the largest
   * magnitude of {@code expected}.
   */
  static double relativeDifference(Vector actual, float[] expected) {
    assertEquals(expected.length, actual.size(), "feature width");
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(actual.apply(i) - expected[i]));
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
    }
    return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
  }
}
