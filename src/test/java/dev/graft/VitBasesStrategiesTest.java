package dev.graft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.base.vit.VisionTransformer;
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
 * The three strategies on the vision transformers (ViT-B/16, DINOv2 ViT-S/14 with and without
 * registers, frozen only) at two patches a side (seeded random weights), on real digit images
 * through the real image pipeline, the bases' preprocessing and default heads: each trains, the
 * patch embedding stays as it was, fine-tuning (the last transformer block, the default) changes
 * that block, and the model file (holding Graft's transformer layers) reloads to the same
 * predictions.
 */
class VitBasesStrategiesTest {
  @TempDir static Path dir;
  private static ImageDataset train;

  @BeforeAll
  static void data() throws IOException {
    Digits.data().extract(dir.resolve("train"), List.of(3, 8), 0, 3);
    train = ImageFolder.of(dir.resolve("train"));
  }

  static Stream<Arguments> cases() {
    // register tokens change only the token embedding: one strategy covers them (each case holds
    // a full-width base in memory, and nine of them outgrew a test JVM's native memory here)
    return Stream.concat(
        Stream.of(Architecture.VIT_B16, Architecture.DINOV2_VITS14)
            .flatMap(
                a ->
                    Stream.of(
                        Arguments.of(a, Strategy.frozen()), Arguments.of(a, Strategy.features()))),
        Stream.of(
            Arguments.of(Architecture.DINOV2_VITS14, Strategy.fineTune()),
            Arguments.of(Architecture.DINOV2_VITS14_REG, Strategy.frozen())));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void strategyTrainsAndItsModelReloads(Architecture a, Strategy strategy) throws IOException {
    Base base = Bases.of(a).weights(Weights.none()).inputSize(2 * a.minInputSize()).load();
    String last = VisionTransformer.vertex(11, "mlp");
    float[] patchBefore = params(base.graph(), VisionTransformer.PATCH_EMBED);
    float[] lastBefore = params(base.graph(), last);

    TransferModel model =
        Graft.base(base)
            .strategy(strategy)
            .epochs(strategy.name().equals("finetune") ? 2 : 1)
            .batchSize(6)
            .seed(1)
            .fit(train, null);
    assertEquals(List.of("3", "8"), model.labels());
    ComputationGraph net = model.network();
    if (net.getLayer(VisionTransformer.PATCH_EMBED) != null) {
      assertArrayEquals(patchBefore, params(net, VisionTransformer.PATCH_EMBED), "patch_embed");
    }
    if (strategy.name().equals("finetune")) {
      assertFalse(
          java.util.Arrays.equals(lastBefore, params(net, last)), last + " did not fine-tune");
    }

    Path file = dir.resolve(a.id() + "-" + strategy.name() + ".graft");
    model.save(file);
    TransferModel back = TransferModel.load(file);
    Path image = Files.list(dir.resolve("train").resolve("8")).sorted().findFirst().orElseThrow();
    List<Prediction> want = model.predict(image, 2);
    assertEquals(want, back.predict(image, 2));
    assertEquals(1.0, want.stream().mapToDouble(Prediction::probability).sum(), 1e-4);
  }

  private static float[] params(ComputationGraph g, String layer) {
    return g.getLayer(layer).params().dup().data().asFloat();
  }
}
