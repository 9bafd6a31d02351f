package dev.graft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.vit.VisionTransformer;
import dev.graft.base.vit.VisionTransformer.Spec;
import dev.graft.metrics.EpochRecord;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import dev.graft.testing.TinyTransformers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Fine-tuning the last transformer block of a small ViT and a small DINOv2 (layer scale, a register
 * token, stochastic depth) on real digit images: the training loss falls, the last block's
 * parameters change, and every parameter below it stays bit-identical.
 */
class VitFineTuneTest {

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("vit", TinyTransformers.VIT), Arguments.of("dinov2", TinyTransformers.DINOV2));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void lastBlockFineTunesAndNothingBelowItMoves(String name, Spec spec) throws Exception {
    ComputationGraph graph = TinyTransformers.graph(spec);
    Map<String, float[]> before = new HashMap<>();
    for (var layer : graph.getLayers()) {
      if (layer.numParams() == 0) {
        continue;
      }
      before.put(layer.conf().getLayer().getLayerName(), layer.params().dup().data().asFloat());
    }
    Base base =
        Bases.fromGraph("tiny-" + name, graph).cut(VisionTransformer.POOL).inputSize(16).load();
    DataSet train = Digits.tensors(List.of(0, 1), 0, 8, 16);
    TransferModel model =
        Graft.base(base)
            .strategy(
                Strategy.fineTune()
                    .fromBlock(VisionTransformer.vertex(1, "norm1"))
                    .warmupEpochs(0)
                    .learningRate(3e-3))
            .epochs(6)
            .batchSize(8)
            .seed(1)
            .fit(Digits.iterator(train, 8), null, List.of("0", "1"));

    List<EpochRecord> epochs = model.info().history().epochs();
    double first = epochs.get(0).trainLoss();
    double last = epochs.get(epochs.size() - 1).trainLoss();
    assertTrue(last < 0.8 * first, "training loss " + first + " -> " + last);

    List<String> unfrozen = model.info().provenance().unfrozen();
    assertTrue(
        unfrozen.contains(VisionTransformer.vertex(1, "attn"))
            && unfrozen.contains(VisionTransformer.vertex(1, "mlp"))
            && !unfrozen.contains(VisionTransformer.vertex(0, "mlp")),
        "unfrozen " + unfrozen);
    ComputationGraph net = model.network();
    List<String> changed = new ArrayList<>();
    for (Map.Entry<String, float[]> e : before.entrySet()) {
      if (net.getLayer(e.getKey()) == null) {
        continue;
      }
      float[] after = net.getLayer(e.getKey()).params().dup().data().asFloat();
      if (unfrozen.contains(e.getKey())) {
        assertFalse(java.util.Arrays.equals(e.getValue(), after), e.getKey() + " did not train");
        changed.add(e.getKey());
      } else {
        assertArrayEquals(e.getValue(), after, e.getKey() + " is frozen but changed");
      }
    }
    assertEquals(
        unfrozen.stream().filter(before::containsKey).count(),
        changed.size(),
        "unfrozen layers with parameters " + unfrozen);
  }
}
