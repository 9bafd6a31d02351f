package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.TransferBuilder;
import dev.graft.base.Base;
import dev.graft.data.Augmentation;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.Split;
import dev.graft.error.GraftException;
import dev.graft.head.Head;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.Strategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * In-process checkpoints through the public API: a run stopped after epoch K by a {@link
 * StopSignal} and resumed ends with exactly the parameters, history and predictions of an
 * uninterrupted run, on each way of feeding a phase; checkpoints of other settings or data, and
 * damaged ones, are refused. (Killed processes: {@code cli.TrainKillResumeTest}.)
 */
class CheckpointResumeTest {
  @TempDir static Path dir;
  static Base base;
  static ImageDataset train;
  static ImageDataset val;

  @BeforeAll
  static void setUp() throws Exception {
    Path digits = TinyNets.digits(dir.resolve("digits"), List.of("1", "4", "8"), 0, 10);
    Split s = ImageFolder.of(digits).split(0.7, 3);
    train = s.train();
    val = s.validation();
    base = TinyNets.base();
  }

  /** The three ways a phase is fed: cached (frozen), cached + derived (fine-tune), images. */
  private static TransferBuilder builder(String kind) {
    TransferBuilder b =
        Graft.base(base).head(Head.averagePooling().dense(8).dropout(0.3)).batchSize(8).seed(5);
    return switch (kind) {
      case "frozen" -> b.strategy(Strategy.frozen()).epochs(3);
      case "finetune" -> b.strategy(Strategy.fineTune().unfreezeLast(2)).epochs(4);
      case "finetune-augment" ->
          b.strategy(Strategy.fineTune().unfreezeLast(2))
              .epochs(4)
              .augmentation(Augmentation.standard());
      default -> throw new IllegalArgumentException(kind);
    };
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"frozen", "finetune", "finetune-augment"})
  void aStoppedRunResumesToTheUninterruptedResult(String kind) throws Exception {
    Path ckpt = dir.resolve(kind + ".ckpt");
    TransferModel reference = builder(kind).fit(train, val);
    int total = reference.info().history().size();
    // frozen: mid-run; fine-tune: at the phase boundary and mid-phase; with augmentation, in the
    // warm-up phase and mid fine-tuning
    int[] stops =
        switch (kind) {
          case "frozen" -> new int[] {1};
          case "finetune" -> new int[] {2, 3};
          default -> new int[] {1, 3};
        };
    assertEquals(kind.equals("frozen") ? 3 : 4, total);
    for (int stopAfter : stops) {
      Files.deleteIfExists(ckpt);
      StopSignal stop = new StopSignal();
      int k = stopAfter;
      TrainingStoppedException e =
          assertThrows(
              TrainingStoppedException.class,
              () ->
                  builder(kind)
                      .checkpoint(ckpt)
                      .stopSignal(stop)
                      .listener(stopAt(k, stop))
                      .fit(train, val));
      assertEquals(k, e.checkpointedEpochs());
      assertTrue(Files.isRegularFile(ckpt));
      TransferModel resumed = builder(kind).checkpoint(ckpt).resume(true).fit(train, val);
      assertEquals(k, resumed.info().provenance().resumedFromEpoch());
      assertSame(reference, resumed, kind + ", stopped after epoch " + k);
    }
  }

  @Test
  void resumingWithoutACheckpointStartsAfreshAndAFinishedOneIsReused() throws Exception {
    Path ckpt = dir.resolve("fresh.ckpt");
    TransferModel fresh = builder("frozen").checkpoint(ckpt).resume(true).fit(train, val);
    assertEquals(0, fresh.info().provenance().resumedFromEpoch());
    assertTrue(Files.isRegularFile(ckpt), "fit leaves the last checkpoint");
    // the checkpoint of a finished run gives the same model without training again
    TransferModel again = builder("frozen").checkpoint(ckpt).resume(true).fit(train, val);
    assertEquals(3, again.info().provenance().resumedFromEpoch());
    assertSame(fresh, again, "resumed from the last epoch");
  }

  @Test
  void theOnDiskActivationCacheIsReusedOnResume() throws Exception {
    Path cache = dir.resolve("activations");
    Path ckpt = dir.resolve("disk.ckpt");
    TransferModel reference =
        builder("finetune").activationCache(ActivationCache.onDisk(cache)).fit(train, val);
    StopSignal stop = new StopSignal();
    assertThrows(
        TrainingStoppedException.class,
        () ->
            builder("finetune")
                .activationCache(ActivationCache.onDisk(cache))
                .checkpoint(ckpt)
                .stopSignal(stop)
                .listener(stopAt(2, stop))
                .fit(train, val));
    List<String> before = listing(cache);
    TransferModel resumed =
        builder("finetune")
            .activationCache(ActivationCache.onDisk(cache))
            .checkpoint(ckpt)
            .resume(true)
            .fit(train, val);
    assertEquals(2, resumed.info().provenance().resumedFromEpoch());
    assertSame(reference, resumed, "on-disk cache");
    assertEquals(before, listing(cache), "the resumed run read the cache and computed nothing");
  }

  /** The files under {@code root} (a recomputation writes new segment files). */
  private static List<String> listing(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString())
          .sorted()
          .toList();
    }
  }

  @Test
  void aCheckpointOfOtherSettingsOrDataIsRefusedNamingTheDifference() throws Exception {
    Path ckpt = dir.resolve("other.ckpt");
    stoppedAfterOneEpoch(ckpt);
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> builder("finetune").epochs(5).checkpoint(ckpt).resume(true).fit(train, val));
    assertTrue(e.getMessage().contains("epochs was '4', now '5'"), e.getMessage());
    e =
        assertThrows(
            GraftException.class,
            () -> builder("finetune").seed(6).checkpoint(ckpt).resume(true).fit(train, val));
    assertTrue(e.getMessage().contains("seed was '5', now '6'"), e.getMessage());

    Path changed = train.samples().get(2).path();
    byte[] before = Files.readAllBytes(changed);
    Files.write(changed, new byte[] {0}, StandardOpenOption.APPEND);
    try {
      e =
          assertThrows(
              GraftException.class,
              () -> builder("finetune").checkpoint(ckpt).resume(true).fit(train, val));
      assertTrue(
          e.getMessage()
              .contains("training data: 1 file(s) differ (content of " + changed + " changed)"),
          e.getMessage());
    } finally {
      Files.write(changed, before);
    }
    ImageDataset fewer = ImageDataset.of(train.labels(), train.samples().subList(1, train.size()));
    e =
        assertThrows(
            GraftException.class,
            () -> builder("finetune").checkpoint(ckpt).resume(true).fit(fewer, val));
    assertTrue(e.getMessage().contains("removed " + train.samples().get(0).path()), e.getMessage());
  }

  @Test
  void aDamagedCheckpointIsRefusedWithAClearError() throws Exception {
    Path ckpt = dir.resolve("damaged.ckpt");
    stoppedAfterOneEpoch(ckpt);
    byte[] good = Files.readAllBytes(ckpt);
    List<UnaryOperator<byte[]>> damages =
        List.of(
            b -> java.util.Arrays.copyOf(b, b.length / 2), // truncated
            b -> {
              byte[] c = b.clone();
              c[200] ^= 0x5a; // a bit flip inside arrays.bin (stored uncompressed)
              return c;
            },
            b -> "not a zip".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    for (UnaryOperator<byte[]> d : damages) {
      Files.write(ckpt, d.apply(good));
      GraftException e =
          assertThrows(
              GraftException.class,
              () -> builder("finetune").checkpoint(ckpt).resume(true).fit(train, val));
      assertTrue(e.getMessage().contains("checkpoint " + ckpt), e.getMessage());
      assertTrue(e.getMessage().contains("damaged"), e.getMessage());
    }
  }

  @Test
  void aCheckpointWhoseArraysDoNotFitTheNetworkIsRefusedNamingIt() throws Exception {
    Path ckpt = dir.resolve("misfit.ckpt");
    stoppedAfterOneEpoch(ckpt);
    byte[] good = Files.readAllBytes(ckpt);
    Fingerprint fingerprint = CheckpointFile.read(ckpt).fingerprint();
    List<java.util.function.Consumer<TrainingState>> misfits =
        List.of(
            st -> st.current.put("no-such-layer", Map.of("W", Nd4j.zeros(DataType.FLOAT, 2, 2))),
            st -> {
              var layer = st.current.values().iterator().next();
              String param = layer.keySet().iterator().next();
              layer.put(param, Nd4j.zeros(DataType.FLOAT, 1, 7));
            },
            // the best epoch's weights are restored only at the end: refused up front all the same
            st -> {
              st.best = new java.util.LinkedHashMap<>(st.current);
              st.best.put("no-such-layer", Map.of("W", Nd4j.zeros(DataType.FLOAT, 2, 2)));
            });
    for (var misfit : misfits) {
      Files.write(ckpt, good);
      TrainingState st = CheckpointFile.read(ckpt).state();
      misfit.accept(st);
      CheckpointFile.write(ckpt, fingerprint, st, () -> {});
      GraftException e =
          assertThrows(
              GraftException.class,
              () -> builder("finetune").checkpoint(ckpt).resume(true).fit(train, val));
      assertTrue(e.getMessage().startsWith("checkpoint " + ckpt + " does not fit"), e.getMessage());
      assertTrue(e.getMessage().contains("saved param"), e.getMessage());
    }
  }

  @Test
  void checkpointsNeedImageFiles() {
    assertThrows(
        GraftException.class,
        () ->
            builder("frozen")
                .checkpoint(dir.resolve("x.ckpt"))
                .fit(
                    dev.graft.testing.Digits.iterator(
                        dev.graft.testing.Digits.tensors(List.of(1, 4, 8), 0, 2, 28), 4),
                    null,
                    List.of("1", "4", "8")));
  }

  private static void stoppedAfterOneEpoch(Path ckpt) throws Exception {
    Files.deleteIfExists(ckpt);
    StopSignal stop = new StopSignal();
    assertThrows(
        TrainingStoppedException.class,
        () ->
            builder("finetune")
                .checkpoint(ckpt)
                .stopSignal(stop)
                .listener(stopAt(1, stop))
                .fit(train, val));
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(
          s.anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary files");
    }
  }

  private static TrainingListener stopAt(int epoch, StopSignal stop) {
    return new TrainingListener() {
      @Override
      public void onEpochEnd(EpochRecord record, History history) {
        if (record.epoch() == epoch) {
          stop.request();
        }
      }
    };
  }

  /** Same parameters and predictions bit for bit, same history (but the timings). */
  static void assertSame(TransferModel expected, TransferModel actual, String what) {
    assertArrayEquals(floats(expected.network().params()), floats(actual.network().params()), what);
    INDArray x = dev.graft.testing.Digits.tensors(List.of(1, 4, 8), 12, 3, 28).getFeatures();
    assertArrayEquals(
        floats(expected.network().outputSingle(x)), floats(actual.network().outputSingle(x)), what);
    List<EpochRecord> a = expected.info().history().epochs();
    List<EpochRecord> b = actual.info().history().epochs();
    assertEquals(a.size(), b.size(), what);
    for (int i = 0; i < a.size(); i++) {
      assertEquals(noTime(a.get(i)), noTime(b.get(i)), what + ", epoch " + (i + 1));
    }
    assertEquals(expected.info().metrics(), actual.info().metrics(), what);
  }

  private static EpochRecord noTime(EpochRecord r) {
    return new EpochRecord(
        r.epoch(),
        r.trainLoss(),
        r.trainAccuracy(),
        r.validationLoss(),
        r.validationAccuracy(),
        r.learningRate(),
        0);
  }

  private static float[] floats(INDArray a) {
    return a.dup().data().asFloat();
  }
}
