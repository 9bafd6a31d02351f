package dev.graft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.head.Head;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Every catalog base, at its smallest input size with seeded random weights, fine-tunes its last
 * block (the default) for one epoch after one head-only epoch: the DAGs of ResNet50 (residual
 * additions) and InceptionV3 (concatenations) split at the freeze boundary, BatchNorm in the
 * unfrozen part stays in inference mode, the first layers stay bit-identical.
 */
class CatalogBasesTest {

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void fineTunesTheLastBlockOfEveryCatalogBase(Architecture arch) throws Exception {
    Base base = Bases.of(arch).weights(Weights.none()).inputSize(arch.minInputSize()).load();
    int s = base.inputSize();
    DataSet train = Digits.tensors(List.of(0, 1), 0, 3, s);
    var builder =
        Graft.base(base)
            .head(Head.averagePooling())
            .strategy(Strategy.fineTune().warmupEpochs(1))
            .epochs(2)
            .batchSize(6);
    TransferModel model = builder.fit(Digits.iterator(train, 6), null, List.of("0", "1"));
    ComputationGraph net = model.network();
    INDArray p = net.outputSingle(train.getFeatures());
    assertEquals(6, p.size(0));
    assertEquals(2, p.size(1));

    String lastBlock = base.blocks().get(base.blocks().size() - 1).name();
    List<String> unfrozen = model.info().provenance().unfrozen();
    String firstUnfrozen = unfrozen.get(0);
    assertFalse(
        Arrays.equals(params(base.graph(), firstUnfrozen), params(net, firstUnfrozen)),
        firstUnfrozen + " (in " + lastBlock + ") did not train");
    String first =
        base.blocks().get(0).layers().stream()
            .filter(
                l -> base.graph().getLayer(l) != null && base.graph().getLayer(l).numParams() > 0)
            .findFirst()
            .orElseThrow();
    assertArrayEquals(params(base.graph(), first), params(net, first), first + " changed");
  }

  private static float[] params(ComputationGraph g, String layer) {
    return g.getLayer(layer).params().dup().data().asFloat();
  }
}
