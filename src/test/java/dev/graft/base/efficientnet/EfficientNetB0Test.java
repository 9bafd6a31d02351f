package dev.graft.base.efficientnet;

import static dev.graft.testing.Shapes.assertCnn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class EfficientNetB0Test {

  @Test
  void parameterCountIsKerasLessItsNormalizationLayer() {
    ComputationGraph net = new ComputationGraph(EfficientNetB0.configuration(32, 1));
    net.init();
    assertEquals(4_049_564L, net.numParams());
    assertEquals(EfficientNetB0.PARAM_COUNT, net.numParams());
    assertArrayEquals(
        new long[] {2, 1280, 1, 1},
        net.outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32)).shape());
  }

  @Test
  void shapesMatchKerasSummaryAt224() {
    ComputationGraphConfiguration conf = EfficientNetB0.configuration(224, 1);
    Map<String, InputType> t = conf.getLayerActivationTypes(InputType.convolutional(224, 224, 3));
    assertCnn(t.get("stem_conv_pad"), 3, 225);
    assertCnn(t.get("stem_activation"), 32, 112);
    assertCnn(t.get("block1a_se_squeeze"), 32, 1);
    assertCnn(t.get("block1a_se_reduce"), 8, 1);
    assertCnn(t.get("block1a_se_excite"), 32, 112);
    assertCnn(t.get("block1a_project_bn"), 16, 112);
    assertCnn(t.get("block2a_dwconv_pad"), 96, 113);
    assertCnn(t.get("block2a_dwconv"), 96, 56);
    assertCnn(t.get("block2a_se_reduce"), 4, 1);
    assertCnn(t.get("block2b_add"), 24, 56);
    assertCnn(t.get("block3a_dwconv_pad"), 144, 59);
    assertCnn(t.get("block3b_add"), 40, 28);
    assertCnn(t.get("block4c_add"), 80, 14);
    assertCnn(t.get("block5c_add"), 112, 14);
    assertCnn(t.get("block6a_dwconv_pad"), 672, 17);
    assertCnn(t.get("block6d_add"), 192, 7);
    assertCnn(t.get("block7a_project_bn"), 320, 7);
    assertCnn(t.get("top_activation"), 1280, 7);
    assertFalse(t.containsKey("block1a_add"));
    for (String end : EfficientNetB0.blockEnds()) {
      assertTrue(conf.getVertices().containsKey(end), end);
    }
    assertEquals(EfficientNetB0.blockNames().size(), EfficientNetB0.blockEnds().size());
  }
}
