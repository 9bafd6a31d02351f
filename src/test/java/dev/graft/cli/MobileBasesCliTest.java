package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.keras.KerasWeightsWriter;
import dev.graft.testing.Digits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** {@code graft featurize --base mobilenetv2 --weights FILE.h5}, and its refusal to download. */
class MobileBasesCliTest {
  @TempDir Path dir;

  @Test
  void featurizesWithAKerasWeightsFile() throws Exception {
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 2);
    Path h5 = dir.resolve("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5");
    KerasWeightsWriter.save(Architecture.MOBILENET_V2.buildForKeras(32, 9), h5);
    Path out = dir.resolve("features");
    Cli.Result r = featurize(h5, data, out);
    assertEquals(0, r.code(), r.toString());
    byte[] npy = Files.readAllBytes(out.resolve("features.npy"));
    int headerLen = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    String header = new String(npy, 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(header.contains("'shape': (4, 1280)"), header);
    JsonNode meta = new ObjectMapper().readTree(out.resolve("featurize.json").toFile());
    assertEquals("mobilenetv2", meta.get("base").asText());
    assertEquals(1280, meta.get("dimension").asInt());
  }

  /** An {@code .h5} whose first kernel reads a local file through external storage: exit 2. */
  @Test
  void externalStorageInAKerasFileIsRefused() throws Exception {
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 1);
    Path good = dir.resolve("good.h5");
    KerasWeightsWriter.save(Architecture.MOBILENET_V2.buildForKeras(32, 9), good);
    Path secret = Files.write(dir.resolve("secret.bin"), new byte[1 << 20]);
    Path h5 =
        dev.graft.base.keras.HostileH5.make(
            good,
            dir.resolve("ext.h5"),
            dev.graft.base.keras.HostileH5.Kind.EXTERNAL_STORAGE,
            secret);
    Cli.Result r =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(30), () -> featurize(h5, data, dir.resolve("o")));
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains(h5.toString()) && r.err().contains("external storage"), r.err());
    assertTrue(!Files.exists(dir.resolve("o").resolve("features.npy")), r.toString());
  }

  @Test
  void imagenetWeightsWithoutAPublishedHashAreRefusedNamingTheUrl() throws Exception {
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 1);
    Cli.Result r =
        Cli.run(
            "featurize",
            "--base",
            "mobilenetv2",
            "--weights",
            "imagenet",
            "--image-size",
            "32",
            "--data",
            data.toString(),
            "--out",
            dir.resolve("o").toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--weights"), r.err());
    assertTrue(
        r.err().contains("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
        r.err());
  }

  /** {@code featurize --base mobilenetv2 --weights H5} at 32 px. */
  private static Cli.Result featurize(Path h5, Path data, Path out) {
    return Cli.run(
        "featurize",
        "--base",
        "mobilenetv2",
        "--weights",
        h5.toString(),
        "--image-size",
        "32",
        "--data",
        data.toString(),
        "--out",
        out.toString());
  }
}
