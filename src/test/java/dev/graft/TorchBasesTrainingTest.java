package dev.graft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The three strategies train on each base of the PyTorch ecosystem (32 px, seeded random weights):
 * fine-tuning unfreezes the last stage, and each model saves and loads with the same predictions
 * (Graft's own layers pass the model reader).
 */
class TorchBasesTrainingTest {
  @TempDir Path dir;

  static Stream<Arguments> cases() {
    return Stream.of(Architecture.CONVNEXT_TINY, Architecture.RESNET50_TORCHVISION)
        .flatMap(
            a ->
                Stream.of(
                    Arguments.of(a, Strategy.frozen()),
                    Arguments.of(a, Strategy.fineTune().unfreezeLastBlocks(1).warmupEpochs(1)),
                    Arguments.of(a, Strategy.features())));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void trainsSavesAndLoads(Architecture arch, Strategy strategy) throws Exception {
    Base base = Bases.of(arch).weights(Weights.none()).inputSize(32).seed(3).load();
    DataSet train = Digits.tensors(List.of(0, 1), 0, 2, 32);
    TransferModel model =
        Graft.base(base)
            .strategy(strategy)
            .epochs(strategy.name().equals("finetune") ? 2 : 1)
            .batchSize(4)
            .fit(Digits.iterator(train, 4), null, List.of("0", "1"));
    ComputationGraph net = model.network();
    INDArray p = net.outputSingle(train.getFeatures());
    assertEquals(4, p.size(0));
    assertEquals(2, p.size(1));
    assertFalse(model.info().history().epochs().isEmpty(), strategy.name());
    assertEquals(arch.id(), model.info().baseId());

    if (strategy.name().equals("finetune")) {
      String lastBlock = base.blocks().get(base.blocks().size() - 1).name();
      String firstUnfrozen = model.info().provenance().unfrozen().get(0);
      assertTrue(
          base.blocks().get(base.blocks().size() - 1).layers().contains(firstUnfrozen),
          firstUnfrozen + " not in " + lastBlock);
      // that it trained and the first block did not: CatalogBasesTest, for every catalog base
    }

    Path file = dir.resolve(arch.id() + ".graft");
    model.save(file);
    try (TransferModel back = TransferModel.load(file)) {
      assertEquals(p, back.network().outputSingle(train.getFeatures()));
    }
  }

  private static float[] params(ComputationGraph g, String layer) {
    return g.getLayer(layer).params().dup().data().asFloat();
  }
}
