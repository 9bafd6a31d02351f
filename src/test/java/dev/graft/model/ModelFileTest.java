package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Interpolation;
import dev.graft.base.Preprocessing;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.io.RefusedFileException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {
  static final List<String> LABELS = List.of("3", "5", "7");
  static TransferModel model;
  @TempDir static Path shared;
  @TempDir Path tmp;

  @BeforeAll
  static void makeModel() {
    model = new TransferModel(TinyNets.classifier(28, 3, 7), TinyNets.info(LABELS, 28));
  }

  @Test
  void roundTripKeepsInfoAndGivesIdenticalPredictions() throws Exception {
    Path digits = TinyNets.digits(shared.resolve("rt"), LABELS, 4);
    Path file = tmp.resolve("m.graft");
    model.save(file);
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(file), s.toList(), "no temporary file left behind");
    }
    TransferModel loaded = TransferModel.load(file);
    assertEquals(model.info().labels(), loaded.info().labels());
    assertEquals(model.info().preprocessing(), loaded.info().preprocessing());
    assertEquals(model.info().settings(), loaded.info().settings());
    assertEquals(model.info().metrics(), loaded.info().metrics());
    assertEquals(model.info().history().epochs(), loaded.info().history().epochs());
    assertEquals(model.info().resize(), loaded.info().resize());
    assertEquals(28, loaded.info().inputSize());
    assertEquals("tiny-cnn", loaded.info().baseId());
    assertEquals(1_700_000_000_000L, loaded.info().createdAtMillis());
    try (Stream<Path> s = Files.walk(digits)) {
      List<Path> files = s.filter(Files::isRegularFile).sorted().toList();
      float[][] before = model.predictor().probabilities(files, null);
      float[][] after = loaded.predictor().probabilities(files, null);
      for (int i = 0; i < files.size(); i++) {
        assertTrue(Arrays.equals(before[i], after[i]), "image " + files.get(i));
      }
      assertEquals(model.predict(files.get(0), 3), loaded.predict(files.get(0), 3));
    }
    try (ZipFile z = new ZipFile(file.toFile())) {
      assertEquals(
          "3\n5\n7\n",
          new String(
              z.getInputStream(z.getEntry("labels.txt")).readAllBytes(), StandardCharsets.UTF_8));
      assertTrue(
          new String(
                  z.getInputStream(z.getEntry("history.csv")).readAllBytes(),
                  StandardCharsets.UTF_8)
              .startsWith("epoch,"));
    }
  }

  @Test
  void aPadResizeModeIsRecordedWithItsMarginAndFill() throws Exception {
    ModelInfo i = model.info();
    ResizeMode pad = ResizeMode.pad(0.1, ResizeMode.Pad.Fill.rgb(0, 0, 0));
    ModelInfo padded =
        new ModelInfo(
            i.graftVersion(),
            i.baseId(),
            i.weightsKey(),
            i.labels(),
            i.preprocessing(),
            i.inputSize(),
            pad,
            i.strategy(),
            i.settings(),
            i.metrics(),
            i.history(),
            i.createdAtMillis());
    Path file = tmp.resolve("pad.graft");
    new TransferModel(model.network(), padded).save(file);
    try (TransferModel back = TransferModel.load(file)) {
      assertEquals(pad, back.info().resize());
    }
  }

  /**
   * The publisher's evaluation resize (crop fraction, interpolation) travels in the model file and
   * prediction uses it; a file written before these fields existed reads as the whole centred
   * square, bilinear; a bad value is named.
   */
  @Test
  void thePublishersResizeIsRecordedAndOlderFilesReadAsTheWholeSquare() throws Exception {
    ModelInfo i = model.info();
    Preprocessing timm = Preprocessing.torch().withCrop(0.875f, Interpolation.BICUBIC);
    ModelInfo cropped =
        new ModelInfo(
            i.graftVersion(),
            i.baseId(),
            i.weightsKey(),
            i.labels(),
            timm,
            i.inputSize(),
            i.resize(),
            i.strategy(),
            i.settings(),
            i.metrics(),
            i.history(),
            i.createdAtMillis());
    Path file = tmp.resolve("crop.graft");
    new TransferModel(model.network(), cropped).save(file);
    try (TransferModel back = TransferModel.load(file)) {
      assertEquals(timm, back.info().preprocessing());
      assertEquals(new ImageTransform(28, i.resize(), timm), back.predictor().transform());
    }
    String json;
    try (ZipFile z = new ZipFile(file.toFile())) {
      json =
          new String(
              z.getInputStream(z.getEntry("graft.json")).readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(json.contains("\"cropFraction\" : 0.875"), json);
    assertTrue(json.contains("\"interpolation\" : \"BICUBIC\""), json);
    String older =
        json.replaceFirst(",\\s*\"cropFraction\" : 0.875", "")
            .replaceFirst(",\\s*\"interpolation\" : \"BICUBIC\"", "");
    assertTrue(!older.contains("cropFraction") && !older.contains("interpolation"), older);
    Path old = rewrite(file, tmp.resolve("old.graft"), "graft.json", older);
    try (TransferModel back = TransferModel.load(old)) {
      assertEquals(Preprocessing.torch(), back.info().preprocessing());
    }
    Path bad =
        rewrite(
            file,
            tmp.resolve("bad.graft"),
            "graft.json",
            json.replace("\"cropFraction\" : 0.875", "\"cropFraction\" : 1.5"));
    ModelFileException e = assertThrows(ModelFileException.class, () -> TransferModel.load(bad));
    assertTrue(e.getMessage().contains("crop fraction must be in (0, 1], got 1.5"), e.getMessage());
  }

  @Test
  void truncatedFileIsNamed() throws Exception {
    Path file = tmp.resolve("m.graft");
    model.save(file);
    byte[] all = Files.readAllBytes(file);
    Path cut = tmp.resolve("cut.graft");
    Files.write(cut, Arrays.copyOf(all, all.length / 2));
    RefusedFileException e =
        assertThrows(RefusedFileException.class, () -> TransferModel.load(cut));
    assertTrue(e.getMessage().contains("cut.graft"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void notAZipIsNamed() throws Exception {
    Path junk = Files.writeString(tmp.resolve("junk.graft"), "hello, I am not a model");
    RefusedFileException e =
        assertThrows(RefusedFileException.class, () -> TransferModel.load(junk));
    assertTrue(e.getMessage().startsWith(junk + ": not a zip file"), e.getMessage());
    assertThrows(NoSuchFileException.class, () -> TransferModel.load(tmp.resolve("absent.graft")));
  }

  @Test
  void missingEntryAndNewerFormatAreNamed() throws Exception {
    Path file = tmp.resolve("m.graft");
    model.save(file);
    Path noNet = rewrite(file, tmp.resolve("nonet.graft"), "network.zip", null);
    ModelFileException e = assertThrows(ModelFileException.class, () -> TransferModel.load(noNet));
    assertTrue(e.getMessage().contains("missing entry 'network.zip'"), e.getMessage());

    String json;
    try (ZipFile z = new ZipFile(file.toFile())) {
      json =
          new String(
              z.getInputStream(z.getEntry("graft.json")).readAllBytes(), StandardCharsets.UTF_8);
    }
    Path newer =
        rewrite(
            file,
            tmp.resolve("newer.graft"),
            "graft.json",
            json.replaceFirst("\"formatVersion\" : 1", "\"formatVersion\" : 99"));
    e = assertThrows(ModelFileException.class, () -> TransferModel.load(newer));
    assertTrue(e.getMessage().contains("format 99"), e.getMessage());

    Path badJson =
        rewrite(file, tmp.resolve("badjson.graft"), "graft.json", "{\"formatVersion\": 1}");
    e = assertThrows(ModelFileException.class, () -> TransferModel.load(badJson));
    assertTrue(e.getMessage().contains("labels"), e.getMessage());
  }

  @Test
  void wrongTypesAndUnexpectedEntriesAreNamed() throws Exception {
    Path file = tmp.resolve("m.graft");
    model.save(file);
    String json;
    try (ZipFile z = new ZipFile(file.toFile())) {
      json =
          new String(
              z.getInputStream(z.getEntry("graft.json")).readAllBytes(), StandardCharsets.UTF_8);
    }
    Path badType =
        rewrite(
            file,
            tmp.resolve("badtype.graft"),
            "graft.json",
            json.replaceFirst("\"inputSize\" : \\d+", "\"inputSize\" : \"big\""));
    ModelFileException e =
        assertThrows(ModelFileException.class, () -> TransferModel.load(badType));
    assertTrue(
        e.getMessage().contains("field 'inputSize' must be an integer, got \"big\""),
        e.getMessage());

    Path badLabels = rewrite(file, tmp.resolve("badlabels.graft"), "labels.txt", "3\n5\n");
    e = assertThrows(ModelFileException.class, () -> TransferModel.load(badLabels));
    assertTrue(e.getMessage().contains("entry 'labels.txt'"), e.getMessage());

    Path extra = tmp.resolve("extra.graft");
    try (ZipFile in = new ZipFile(file.toFile());
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(extra))) {
      for (ZipEntry ze : java.util.Collections.list(in.entries())) {
        out.putNextEntry(new ZipEntry(ze.getName()));
        out.write(in.getInputStream(ze).readAllBytes());
        out.closeEntry();
      }
      out.putNextEntry(new ZipEntry("notes.bin"));
      out.write(new byte[] {1, 2, 3});
      out.closeEntry();
    }
    RefusedFileException r =
        assertThrows(RefusedFileException.class, () -> TransferModel.load(extra));
    assertEquals("notes.bin", r.entry());
  }

  @Test
  void labelCountMustMatchTheNetwork() {
    assertThrows(
        dev.graft.error.GraftException.class,
        () -> new TransferModel(TinyNets.classifier(28, 2, 1), TinyNets.info(LABELS, 28)));
  }

  /** Copies a zip, dropping entry {@code name} (replacement null) or replacing its text. */
  private static Path rewrite(Path src, Path dst, String name, String replacement)
      throws Exception {
    try (ZipFile in = new ZipFile(src.toFile());
        OutputStream os = Files.newOutputStream(dst);
        ZipOutputStream out = new ZipOutputStream(os)) {
      for (ZipEntry e : java.util.Collections.list(in.entries())) {
        if (e.getName().equals(name)) {
          if (replacement == null) {
            continue;
          }
          out.putNextEntry(new ZipEntry(name));
          out.write(replacement.getBytes(StandardCharsets.UTF_8));
        } else {
          out.putNextEntry(new ZipEntry(e.getName()));
          out.write(in.getInputStream(e).readAllBytes());
        }
        out.closeEntry();
      }
    }
    return dst;
  }
}
