package dev.graft.base.mobilenet;

import static dev.graft.testing.Shapes.assertCnn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class MobileNetV2Test {

  @Test
  void parameterCountIsKerasAtAlphaOne() {
    ComputationGraph net = new ComputationGraph(MobileNetV2.configuration(32, 1.0, 1));
    net.init();
    assertEquals(MobileNetV2.KERAS_PARAM_COUNT, net.numParams());
    assertArrayEquals(
        new long[] {2, 1280, 1, 1},
        net.outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32)).shape());
  }

  @Test
  void shapesMatchKerasSummaryAt224() {
    ComputationGraphConfiguration conf = MobileNetV2.configuration(224, 1.0, 1);
    Map<String, InputType> t = conf.getLayerActivationTypes(InputType.convolutional(224, 224, 3));
    // Keras's model.summary() for MobileNetV2(include_top=False) at 224x224x3
    assertCnn(t.get("Conv1_pad"), 3, 225);
    assertCnn(t.get("Conv1_relu"), 32, 112);
    assertCnn(t.get("expanded_conv_project_BN"), 16, 112);
    assertCnn(t.get("block_1_expand_relu"), 96, 112);
    assertCnn(t.get("block_1_pad"), 96, 113);
    assertCnn(t.get("block_1_depthwise"), 96, 56);
    assertCnn(t.get("block_2_add"), 24, 56);
    assertCnn(t.get("block_3_pad"), 144, 57);
    assertCnn(t.get("block_5_add"), 32, 28);
    assertCnn(t.get("block_9_add"), 64, 14);
    assertCnn(t.get("block_12_add"), 96, 14);
    assertCnn(t.get("block_13_pad"), 576, 15);
    assertCnn(t.get("block_15_add"), 160, 7);
    assertCnn(t.get("block_16_project_BN"), 320, 7);
    assertCnn(t.get("out_relu"), 1280, 7);
    assertFalse(t.containsKey("block_16_add"));
  }

  @Test
  void oddSidesArePaddedOnEverySide() {
    // correct_pad: an odd side (here 33, then 17) gets a pixel on each side before stride 2
    ComputationGraphConfiguration conf = MobileNetV2.configuration(33, 1.0, 1);
    Map<String, InputType> t = conf.getLayerActivationTypes(InputType.convolutional(33, 33, 3));
    assertCnn(t.get("Conv1_pad"), 3, 35);
    assertCnn(t.get("Conv1"), 32, 17);
    assertCnn(t.get("block_1_pad"), 96, 19);
    assertCnn(t.get("block_1_depthwise"), 96, 9);
  }

  @Test
  void otherAlphasFollowMakeDivisible() {
    ComputationGraphConfiguration small = MobileNetV2.configuration(32, 0.35, 1);
    Map<String, InputType> t = small.getLayerActivationTypes(InputType.convolutional(32, 32, 3));
    assertCnn(t.get("Conv1"), 16, 16);
    // 16 * 0.35 -> 5 -> 8 channels, the same as the stem's 8? no: stem 32*0.35 -> 16
    assertCnn(t.get("expanded_conv_project_BN"), 8, 16);
    assertCnn(t.get("out_relu"), 1280, 1);
    ComputationGraphConfiguration wide = MobileNetV2.configuration(32, 1.4, 1);
    t = wide.getLayerActivationTypes(InputType.convolutional(32, 32, 3));
    assertCnn(t.get("Conv1"), 48, 16);
    assertCnn(t.get("out_relu"), 1792, 1);
    for (double alpha : MobileNetV2.ALPHAS) {
      ComputationGraphConfiguration c = MobileNetV2.configuration(32, alpha, 1);
      for (String end : MobileNetV2.blockEnds(alpha)) {
        assertTrue(c.getVertices().containsKey(end), alpha + ": " + end);
      }
    }
    assertEquals(8, MobileNetV2.makeDivisible(5, 8));
    assertEquals(16, MobileNetV2.makeDivisible(11.2, 8));
    assertEquals(48, MobileNetV2.makeDivisible(44.8, 8));
  }

  @Test
  void refusesTooSmallInputsAndBadAlphas() {
    GraftException e =
        assertThrows(GraftException.class, () -> MobileNetV2.configuration(31, 1.0, 1));
    assertTrue(e.getMessage().contains("31"), e.getMessage());
    assertThrows(GraftException.class, () -> MobileNetV2.configuration(64, 0, 1));
  }
}
