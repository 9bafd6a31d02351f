package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TinyNets;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two real {@code graft featurize} runs at once into one {@code --out} do not corrupt it. */
class FeaturizeConcurrencyTest {
  @TempDir Path dir;

  @Test
  void twoRunsIntoOneFolder() throws Exception {
    List<String> labels = List.of("1", "4", "8");
    Path base = dir.resolve("base.zip");
    ModelSerializer.writeModel(TinyNets.classifier(28, 3, 5), base.toFile(), false);
    Path small = TinyNets.digits(dir.resolve("small"), labels, 6); // 18 images
    Path large = TinyNets.digits(dir.resolve("large"), labels, 14); // 42 images
    Path out = dir.resolve("features");
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Cli.Result>> runs =
          Stream.of(small, large)
              .map(
                  d ->
                      pool.submit(
                          () -> {
                            start.await();
                            return Cli.run(
                                "featurize",
                                "--base",
                                base.toString(),
                                "--image-size",
                                "28",
                                "--batch",
                                "1",
                                "--data",
                                d.toString(),
                                "--out",
                                out.toString());
                          }))
              .toList();
      start.countDown();
      for (Future<Cli.Result> f : runs) {
        Cli.Result r = f.get();
        assertEquals(0, r.code(), r.toString());
      }
    } finally {
      pool.shutdownNow();
    }
    byte[] npy = Files.readAllBytes(out.resolve("features.npy"));
    int headerLen = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    String header = new String(npy, 10, headerLen, StandardCharsets.US_ASCII);
    Matcher m = Pattern.compile("'shape': \\((\\d+), (\\d+)\\)").matcher(header);
    assertTrue(m.find(), header);
    int n = Integer.parseInt(m.group(1));
    int f = Integer.parseInt(m.group(2));
    assertTrue(Set.of(18, 42).contains(n), "rows of one run: " + n);
    assertEquals(10 + headerLen + (long) n * f * 4, npy.length, "header and data agree");
    ByteBuffer data =
        ByteBuffer.wrap(npy, 10 + headerLen, n * f * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n * f; i++) {
      assertTrue(Float.isFinite(data.getFloat()));
    }
    try (Stream<Path> left = Files.list(out)) {
      assertEquals(
          List.of(),
          left.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(),
          "no temporary files left");
    }
    int rows = Files.readAllLines(out.resolve("labels.csv")).size() - 1;
    assertTrue(Set.of(18, 42).contains(rows), "labels.csv of one run: " + rows);
  }
}
