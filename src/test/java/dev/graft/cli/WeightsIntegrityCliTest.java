package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.graft.io.HostileFiles;
import dev.graft.io.Sha256;
import dev.graft.model.TinyNets;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** {@code --weights-sha256} pins, the digest in the provenance, and weights without a network. */
class WeightsIntegrityCliTest {
  private static final String WRONG = "0".repeat(64);
  @TempDir Path dir;

  @Test
  void aWrongPinIsExitTwoNamingFileExpectedAndActual() throws Exception {
    Path base = HostileFiles.goodZip(dir.resolve("base.zip"));
    String actual = Sha256.of(base);
    Path data = TinyNets.digits(dir.resolve("data"), HostileFiles.LABELS, 4);
    Cli.Result train =
        Cli.run(
            "train",
            "--data",
            data.toString(),
            "--val-split",
            "0.25",
            "--base",
            base.toString(),
            "--weights-sha256",
            WRONG,
            "--image-size",
            "28",
            "--strategy",
            "frozen",
            "--epochs",
            "1",
            "--out",
            dir.resolve("m.graft").toString());
    assertEquals(2, train.code(), train.toString());
    String line = train.err().strip();
    assertEquals(1, line.lines().count(), train.toString());
    assertTrue(
        line.contains(base.toString()) && line.contains(WRONG) && line.contains(actual), line);
    assertTrue(Files.notExists(dir.resolve("m.graft")));

    Cli.Result featurize =
        Cli.run(
            "featurize",
            "--base",
            base.toString(),
            "--weights-sha256",
            WRONG,
            "--image-size",
            "28",
            "--data",
            data.toString(),
            "--out",
            dir.resolve("f").toString());
    assertEquals(2, featurize.code(), featurize.toString());
    assertTrue(featurize.err().contains(actual), featurize.err());

    Cli.Result bad =
        Cli.run(
            "featurize",
            "--base",
            base.toString(),
            "--weights-sha256",
            "abc",
            "--data",
            data.toString(),
            "--out",
            dir.resolve("f").toString());
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(bad.err().contains("--weights-sha256") && bad.err().contains("'abc'"), bad.err());
  }

  @Test
  void theRightPinLoadsAndTheDigestIsRecorded() throws Exception {
    Path base = HostileFiles.goodZip(dir.resolve("base.zip"));
    String actual = Sha256.of(base);
    Path data = TinyNets.digits(dir.resolve("data"), HostileFiles.LABELS, 4);
    Path model = dir.resolve("m.graft");
    Cli.Result train =
        Cli.run(
            "train",
            "--data",
            data.toString(),
            "--val-split",
            "0.25",
            "--base",
            base.toString(),
            "--weights-sha256",
            actual.toUpperCase(),
            "--image-size",
            "28",
            "--strategy",
            "frozen",
            "--epochs",
            "1",
            "--out",
            model.toString());
    assertEquals(0, train.code(), train.toString());
    JsonNode info;
    try (ZipFile z = new ZipFile(model.toFile())) {
      info = new ObjectMapper().readTree(z.getInputStream(z.getEntry("graft.json")));
    }
    assertEquals(actual, info.get("settings").get("weightsSha256").asText());

    Path out = dir.resolve("f");
    Cli.Result featurize =
        Cli.run(
            "featurize",
            "--base",
            base.toString(),
            "--image-size",
            "28",
            "--data",
            data.toString(),
            "--out",
            out.toString());
    assertEquals(0, featurize.code(), featurize.toString());
    assertEquals(
        actual,
        new ObjectMapper()
            .readTree(out.resolve("featurize.json").toFile())
            .get("weightsSha256")
            .asText());
  }

  @Test
  void imagenetWithoutANetworkIsExitTwoNamingTheCachePath() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        ex -> {
          ex.sendResponseHeaders(503, -1);
          ex.close();
        });
    server.start();
    Path cache = dir.resolve("cache");
    String oldUrl = System.getProperty("graft.imagenet.baseUrl");
    String oldCache = System.getProperty("graft.cache.dir");
    try {
      System.setProperty(
          "graft.imagenet.baseUrl", "http://127.0.0.1:" + server.getAddress().getPort() + "/");
      System.setProperty("graft.cache.dir", cache.toString());
      Path data = TinyNets.digits(dir.resolve("data"), HostileFiles.LABELS, 2);
      Cli.Result r =
          Cli.run(
              "featurize",
              "--base",
              "vgg16",
              "--weights",
              "imagenet",
              "--image-size",
              "32",
              "--data",
              data.toString(),
              "--out",
              dir.resolve("f").toString());
      assertEquals(2, r.code(), r.toString());
      String line = r.err().strip();
      assertEquals(1, line.lines().count(), r.toString());
      assertTrue(line.contains("503"), line);
      assertTrue(
          line.contains(cache.resolve("vgg16_dl4j_inference.zip").toAbsolutePath().toString()),
          line);
      assertTrue(line.contains("GRAFT_OFFLINE"), line);
    } finally {
      restore("graft.imagenet.baseUrl", oldUrl);
      restore("graft.cache.dir", oldCache);
      server.stop(0);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }
}
