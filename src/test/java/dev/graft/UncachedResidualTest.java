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
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Training without the activation cache (what augmentation forces) on a base with residual
 * additions: DL4J cannot backpropagate through frozen layers into an addition, so the frozen part
 * must run apart, in inference mode, on every batch. This failed with "Cannot do backward pass:
 * errors not set" when the whole ResNet50 graph was trained instead.
 */
class UncachedResidualTest {

  @Test
  void frozenResNet50TrainsItsHeadWithoutTheCache() throws Exception {
    Base base = resnet50();
    DataSet train = Digits.tensors(List.of(0, 1), 0, 3, base.inputSize());
    TransferModel model =
        Graft.base(base)
            .head(Head.averagePooling().dense(8))
            .strategy(Strategy.frozen())
            .epochs(2)
            .batchSize(6)
            .cacheActivations(false)
            .fit(Digits.iterator(train, 6), null, List.of("0", "1"));
    ComputationGraph net = model.network();
    assertEquals(2, net.outputSingle(train.getFeatures()).size(1));
    assertFalse(model.info().provenance().cachedActivations());
    String stem =
        base.blocks().get(0).layers().stream()
            .filter(
                l -> base.graph().getLayer(l) != null && base.graph().getLayer(l).numParams() > 0)
            .findFirst()
            .orElseThrow();
    assertArrayEquals(params(base.graph(), stem), params(net, stem), stem + " changed");
  }

  @Test
  void fineTunedResNet50TrainsItsLastBlockWithoutTheCache() throws Exception {
    Base base = resnet50();
    DataSet train = Digits.tensors(List.of(0, 1), 0, 3, base.inputSize());
    TransferModel model =
        Graft.base(base)
            .head(Head.averagePooling())
            .strategy(Strategy.fineTune().warmupEpochs(1))
            .epochs(2)
            .batchSize(6)
            .cacheActivations(false)
            .fit(Digits.iterator(train, 6), null, List.of("0", "1"));
    String firstUnfrozen = model.info().provenance().unfrozen().get(0);
    assertFalse(
        java.util.Arrays.equals(
            params(base.graph(), firstUnfrozen), params(model.network(), firstUnfrozen)),
        firstUnfrozen + " did not train");
  }

  private static Base resnet50() throws Exception {
    return Bases.of(Architecture.RESNET50)
        .weights(Weights.none())
        .inputSize(Architecture.RESNET50.minInputSize())
        .load();
  }

  private static float[] params(ComputationGraph g, String layer) {
    return g.getLayer(layer).params().dup().data().asFloat();
  }
}
