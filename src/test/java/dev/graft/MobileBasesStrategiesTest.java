package dev.graft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.model.Prediction;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The frozen-base and feature-extraction strategies on MobileNetV2 and EfficientNetB0 at their
 * smallest input (32 px, seeded random weights) on real digit images through the real image
 * pipeline and the bases' own preprocessing and default heads: each trains, keeps the base frozen,
 * and its model file (EfficientNet's holds the squeeze-and-excitation vertex) reloads to the same
 * predictions. Fine-tuning of every catalog base, these two included, is {@code
 * CatalogBasesTest}'s.
 */
class MobileBasesStrategiesTest {
  @TempDir static Path dir;
  private static ImageDataset train;

  @BeforeAll
  static void data() throws IOException {
    Digits.data().extract(dir.resolve("train"), List.of(3, 8), 0, 3);
    train = ImageFolder.of(dir.resolve("train"));
  }

  static Stream<Arguments> cases() {
    return Stream.of(Architecture.MOBILENET_V2, Architecture.EFFICIENTNET_B0)
        .flatMap(
            a ->
                Stream.of(
                    Arguments.of(a, Strategy.frozen()), Arguments.of(a, Strategy.features())));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void strategyTrainsAndItsModelReloads(Architecture a, Strategy strategy) throws IOException {
    Base base = Bases.of(a).weights(Weights.none()).inputSize(a.minInputSize()).load();
    String first =
        base.blocks().get(0).layers().stream()
            .filter(
                l -> base.graph().getLayer(l) != null && base.graph().getLayer(l).numParams() > 0)
            .findFirst()
            .orElseThrow();
    float[] before = base.graph().getLayer(first).params().dup().data().asFloat();

    TransferModel model =
        Graft.base(base).strategy(strategy).epochs(1).batchSize(6).seed(1).fit(train, null);
    assertEquals(List.of("3", "8"), model.labels());
    assertEquals(strategy.name(), model.info().strategy());
    ComputationGraph net = model.network();
    // the model holds the whole base: its first weighted layer is there, untouched by training
    assertNotNull(net.getVertex(first), first + " is in the model");
    assertArrayEquals(before, net.getLayer(first).params().dup().data().asFloat(), first);

    Path file = dir.resolve(a.id() + "-" + strategy.name() + ".graft");
    model.save(file);
    TransferModel back = TransferModel.load(file);
    Path image = Files.list(dir.resolve("train").resolve("8")).sorted().findFirst().orElseThrow();
    List<Prediction> want = model.predict(image, 2);
    List<Prediction> got = back.predict(image, 2);
    assertEquals(want, got);
    double total = want.stream().mapToDouble(Prediction::probability).sum();
    assertEquals(1.0, total, 1e-4);
    assertTrue(want.get(0).probability() >= want.get(1).probability());
  }
}
