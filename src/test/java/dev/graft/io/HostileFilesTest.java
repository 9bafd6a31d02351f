package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.model.ModelFile;
import dev.graft.model.TransferModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import untrusted.RecordingActivation;
import untrusted.RecordingPayload;

/**
 * Hostile DL4J zips and {@code .graft} files, crafted from a good model, are refused in well under
 * 5 s with the entry named, and nothing in them is deserialized or instantiated.
 */
class HostileFilesTest {
  private static final Duration QUICK = Duration.ofSeconds(5);
  @TempDir Path dir;

  /** Loads {@code file} expecting a refusal, within {@link #QUICK}. */
  private RefusedFileException refused(Path file, boolean graft) {
    return assertTimeoutPreemptively(
        QUICK,
        () ->
            assertThrows(
                RefusedFileException.class,
                () -> {
                  if (graft) {
                    ModelFile.read(file);
                  } else {
                    NetworkZip.read(file);
                  }
                }));
  }

  @Test
  void goodFilesLoadAndPredictTheSame() throws Exception {
    Path zip = HostileFiles.goodZip(dir.resolve("good.zip"));
    ComputationGraph safe = NetworkZip.read(zip);
    ComputationGraph dl4j = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
    assertEquals(dl4j.params(), safe.params());
    assertEquals(dl4j.getConfiguration().toJson(), safe.getConfiguration().toJson());
    TransferModel m = ModelFile.read(HostileFiles.goodGraft(dir.resolve("good.graft")));
    assertEquals(HostileFiles.LABELS, m.labels());
    assertEquals(dl4j.params(), m.network().params());
  }

  @Test
  void serializationPayloadIsRefusedUnread() throws Exception {
    Path zip = HostileFiles.payloadZip(dir);
    int before = RecordingPayload.READS.get();
    RefusedFileException e = refused(zip, false);
    assertEquals("preprocessor.bin", e.entry());
    assertTrue(e.getMessage().startsWith(zip + ": entry 'preprocessor.bin'"), e.getMessage());
    Path graft = HostileFiles.graftWith(dir, "payload.graft", zip);
    RefusedFileException g = refused(graft, true);
    assertEquals("network.zip/preprocessor.bin", g.entry());
    assertEquals(before, RecordingPayload.READS.get(), "the payload's readObject never ran");
    // The payload is real: DL4J's own reader deserializes it.
    assertThrows(
        RuntimeException.class, () -> ModelSerializer.restoreComputationGraph(zip.toFile(), false));
    assertEquals(before + 1, RecordingPayload.READS.get());
  }

  @Test
  void classOffTheAllowlistIsRefusedUninstantiated() throws Exception {
    Path zip = HostileFiles.offAllowlistZip(dir);
    int before = RecordingActivation.CONSTRUCTED.get();
    RefusedFileException e = refused(zip, false);
    assertEquals("configuration.json", e.entry());
    assertTrue(e.getMessage().contains("untrusted.RecordingActivation"), e.getMessage());
    RefusedFileException g = refused(HostileFiles.graftWith(dir, "class.graft", zip), true);
    assertEquals("network.zip/configuration.json", g.entry());
    assertEquals(before, RecordingActivation.CONSTRUCTED.get(), "the class was never instantiated");
    // The class is real: DL4J's own parser instantiates it.
    String json = new String(HostileFiles.entries(zip).get(NetworkZip.CONFIGURATION));
    ComputationGraphConfiguration.fromJson(json);
    assertTrue(RecordingActivation.CONSTRUCTED.get() > before);
  }

  @Test
  void zipBombIsRefusedByItsDeclaredSize() throws Exception {
    Path zip = HostileFiles.bombZip(dir);
    assertTrue(Files.size(zip) < 2 << 20, "a small file");
    RefusedFileException e = refused(zip, false);
    assertEquals("coefficients.bin", e.entry());
    assertTrue(e.getMessage().contains("declares"), e.getMessage());
    RefusedFileException g = refused(HostileFiles.graftWith(dir, "bomb.graft", zip), true);
    assertEquals("network.zip/coefficients.bin", g.entry());
  }

  @Test
  void lyingSizeHeaderIsCaughtWhileReading() throws Exception {
    Path zip = HostileFiles.lyingHeaderZip(dir);
    RefusedFileException e = refused(zip, false);
    assertEquals("coefficients.bin", e.entry());
    assertTrue(
        e.getMessage().contains("more than") || e.getMessage().contains("longer than"),
        e.getMessage());
    RefusedFileException g = refused(HostileFiles.graftWith(dir, "lying.graft", zip), true);
    assertEquals("network.zip/coefficients.bin", g.entry());
  }

  @Test
  void truncatedEntryIsRefused() throws Exception {
    Path zip = HostileFiles.truncatedEntryZip(dir);
    RefusedFileException e = refused(zip, false);
    assertEquals("coefficients.bin", e.entry());
    RefusedFileException g = refused(HostileFiles.graftWith(dir, "truncated.graft", zip), true);
    assertEquals("network.zip/coefficients.bin", g.entry());
  }

  @Test
  void truncatedFileIsRefused() throws Exception {
    Path good = HostileFiles.goodGraft(dir.resolve("whole.graft"));
    byte[] all = Files.readAllBytes(good);
    Path cut = Files.write(dir.resolve("cut.graft"), java.util.Arrays.copyOf(all, all.length / 2));
    RefusedFileException e = refused(cut, true);
    assertTrue(e.getMessage().startsWith(cut + ": not a zip file, or truncated"), e.getMessage());
  }

  @Test
  void renamedNonZipIsRefused() throws Exception {
    Path png =
        Files.write(
            dir.resolve("photo.graft"),
            new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
    RefusedFileException e = refused(png, true);
    assertTrue(e.getMessage().contains("not a zip file"), e.getMessage());
    assertTrue(
        refused(Files.copy(png, dir.resolve("photo.zip")), false)
            .getMessage()
            .contains("not a zip file"));
  }

  @Test
  void parameterCountMustMatchTheConfiguration() throws Exception {
    // a configuration from a bigger network with the tiny network's parameters
    var good = HostileFiles.entries(HostileFiles.goodZip(dir.resolve("g.zip")));
    var other = dev.graft.model.TinyNets.classifier(28, 5, 5);
    good.put(NetworkZip.CONFIGURATION, other.getConfiguration().toJson().getBytes());
    Path zip = HostileFiles.writeZip(dir.resolve("mismatch.zip"), good);
    RefusedFileException e = refused(zip, false);
    assertEquals("coefficients.bin", e.entry());
  }

  @Test
  void duplicateClassKeyIsRefusedUninstantiated() throws Exception {
    Path zip = HostileFiles.duplicateClassZip(dir);
    int before = RecordingActivation.CONSTRUCTED.get();
    RefusedFileException e = refused(zip, false);
    assertEquals("configuration.json", e.entry());
    assertTrue(e.getMessage().contains("duplicate key"), e.getMessage());
    assertTrue(e.getMessage().contains("@class"), e.getMessage());
    RefusedFileException g = refused(HostileFiles.graftWith(dir, "dup.graft", zip), true);
    assertEquals("network.zip/configuration.json", g.entry());
    assertEquals(before, RecordingActivation.CONSTRUCTED.get());
  }

  @Test
  void longNumberIsRefusedBeforeParsing() throws Exception {
    Path graft = HostileFiles.longNumberGraft(dir, 4_000_000);
    RefusedFileException e = refused(graft, true);
    assertEquals("graft.json", e.entry());
    assertTrue(e.getMessage().contains("number longer than"), e.getMessage());
  }

  @Test
  void longStringIsRefused() {
    String json = "{\"a\": \"" + "x".repeat(JsonGuard.MAX_STRING_CHARS + 1) + "\"}";
    RefusedFileException e =
        assertThrows(
            RefusedFileException.class,
            () ->
                JsonGuard.parse(
                    json.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    dir.resolve("s.json"),
                    "s.json",
                    Limits.defaults()));
    assertTrue(e.getMessage().contains("string longer than"), e.getMessage());
    // Numbers and strings just under the caps still parse.
    String ok = "{\"a\": \"" + "x".repeat(1000) + "\", \"b\": -1.25e-7, \"c\": [1,2,3]}";
    assertEquals(
        1000,
        JsonGuard.parse(
                ok.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                dir.resolve("ok.json"),
                "ok.json",
                Limits.defaults())
            .get("a")
            .asText()
            .length());
  }

  @Test
  void nestedZipIsCappedByTheFileSize() throws Exception {
    Path graft = HostileFiles.nestedBombGraft(dir);
    assertTrue(Files.size(graft) < 2 << 20, "the crafted file is small");
    RefusedFileException e = refused(graft, true);
    assertEquals("network.zip", e.entry());
    assertTrue(e.getMessage().contains("declares " + HostileFiles.BOMB_BYTES), e.getMessage());
  }

  /** An output that is not a dense layer: its size comes from the configuration's types. */
  @Test
  void labelCountMustMatchAnOutputThatIsNotADenseLayer() throws Exception {
    ComputationGraph g =
        new ComputationGraph(
            new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.feedForward(3))
                .addLayer(
                    "dense",
                    new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(2).build(),
                    "in")
                .addLayer(
                    "out",
                    new org.deeplearning4j.nn.conf.layers.ActivationLayer(
                        org.nd4j.linalg.activations.Activation.SOFTMAX),
                    "dense")
                .setOutputs("out")
                .build());
    g.init();
    Path two = dir.resolve("two.graft");
    new TransferModel(g, dev.graft.model.TinyNets.info(java.util.List.of("a", "b"), 28)).save(two);
    java.util.Map<String, byte[]> e = HostileFiles.entries(two);
    var json =
        (org.nd4j.shade.jackson.databind.node.ObjectNode)
            new org.nd4j.shade.jackson.databind.ObjectMapper().readTree(e.get("graft.json"));
    json.putArray("labels").add("a").add("b").add("c").add("d");
    e.put("graft.json", json.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    e.put("labels.txt", "a\nb\nc\nd\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Path four = HostileFiles.writeZip(dir.resolve("four.graft"), e);
    dev.graft.model.ModelFileException m =
        assertThrows(dev.graft.model.ModelFileException.class, () -> ModelFile.read(four));
    assertTrue(
        m.getMessage().contains("2 outputs") && m.getMessage().contains("4 labels"),
        m.getMessage());
  }

  @Test
  void deepJsonIsRefused() throws Exception {
    var good = HostileFiles.entries(HostileFiles.goodZip(dir.resolve("g.zip")));
    good.put(NetworkZip.CONFIGURATION, "[".repeat(100_000).getBytes());
    RefusedFileException e = refused(HostileFiles.writeZip(dir.resolve("deep.zip"), good), false);
    assertEquals("configuration.json", e.entry());
    assertTrue(e.getMessage().contains("nests deeper"), e.getMessage());
  }

  @Test
  void refusalIsAGraftException() {
    assertTrue(GraftException.class.isAssignableFrom(RefusedFileException.class));
  }
}
