package dev.graft.base.inception;

import static dev.graft.testing.Shapes.assertCnn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class InceptionV3Test {

  @Test
  void buildsAt75PxWithKerasShapesAndParameterCount() {
    ComputationGraph net = InceptionV3.build(InceptionV3.MIN_INPUT_SIZE, 42);
    // Keras: 21,802,784 parameters; DL4J adds a fixed gamma to each of the 94 BN layers.
    assertEquals(InceptionV3.KERAS_PARAM_COUNT + InceptionV3.FIXED_GAMMA_COUNT, net.numParams());
    assertEquals(21_820_000L, net.numParams());
    long gammas = 0;
    long bnLayers = 0;
    for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
      if (l.conf().getLayer() instanceof BatchNormalization bn) {
        gammas += bn.getNOut();
        bnLayers++;
      }
    }
    assertEquals(94, bnLayers);
    assertEquals(InceptionV3.FIXED_GAMMA_COUNT, gammas);

    INDArray in = Nd4j.rand(DataType.FLOAT, 2, 3, 75, 75).muli(2).subi(1);
    INDArray out = net.outputSingle(in);
    assertArrayEquals(new long[] {2, 2048, 1, 1}, out.shape());
    assertEquals(List.of(InceptionV3.INPUT_NAME), net.getConfiguration().getNetworkInputs());
    assertEquals(List.of("mixed10"), net.getConfiguration().getNetworkOutputs());
  }

  @Test
  void spatialSizesMatchKerasAt299() {
    ComputationGraphConfiguration conf = InceptionV3.configuration(299, 1);
    Map<String, InputType> activations =
        conf.getLayerActivationTypes(InputType.convolutional(299, 299, 3));
    // Keras's model.summary() at 299x299x3 (HWC there, CHW here)
    assertCnn(activations.get("activation_1"), 32, 149);
    assertCnn(activations.get("activation_2"), 32, 147);
    assertCnn(activations.get("activation_3"), 64, 147);
    assertCnn(activations.get("max_pooling2d_1"), 64, 73);
    assertCnn(activations.get("activation_5"), 192, 71);
    assertCnn(activations.get("max_pooling2d_2"), 192, 35);
    assertCnn(activations.get("mixed0"), 256, 35);
    assertCnn(activations.get("mixed1"), 288, 35);
    assertCnn(activations.get("mixed2"), 288, 35);
    assertCnn(activations.get("mixed3"), 768, 17);
    assertCnn(activations.get("mixed7"), 768, 17);
    assertCnn(activations.get("mixed8"), 1280, 8);
    assertCnn(activations.get("mixed9_0"), 768, 8);
    assertCnn(activations.get("concatenate_1"), 768, 8);
    assertCnn(activations.get("mixed9"), 2048, 8);
    assertCnn(activations.get("mixed10"), 2048, 8);
  }

  @Test
  void layerNamesFollowKerasCreationOrder() {
    ComputationGraphConfiguration conf = InceptionV3.configuration(75, 1);
    Map<String, ?> vertices = conf.getVertices();
    for (int i = 1; i <= 94; i++) {
      assertTrue(vertices.containsKey("conv2d_" + i), "conv2d_" + i);
      assertTrue(vertices.containsKey("batch_normalization_" + i));
      assertTrue(vertices.containsKey("activation_" + i));
    }
    assertTrue(!vertices.containsKey("conv2d_95"));
    for (int i = 1; i <= 4; i++) assertTrue(vertices.containsKey("max_pooling2d_" + i));
    for (int i = 1; i <= 9; i++) assertTrue(vertices.containsKey("average_pooling2d_" + i));
    for (int i = 0; i <= 10; i++) assertTrue(vertices.containsKey("mixed" + i));
    for (String s : List.of("mixed9_0", "mixed9_1", "concatenate_1", "concatenate_2")) {
      assertTrue(vertices.containsKey(s), s);
    }
    // 94*3 + 4 + 9 + 11 + 4 = 310, and the input: Keras's 311 layers of include_top=False
    assertEquals(310, vertices.size());

    // spot checks against Keras's summary: kernel shapes and the wiring
    ConvolutionLayer c1 = conv(conf, "conv2d_1");
    assertArrayEquals(new int[] {3, 3}, c1.getKernelSize());
    assertArrayEquals(new int[] {2, 2}, c1.getStride());
    assertEquals(32, c1.getNOut());
    assertEquals(false, c1.hasBias());
    ConvolutionLayer c12 = conv(conf, "conv2d_12"); // mixed0's pool branch
    assertEquals(32, c12.getNOut());
    assertEquals(List.of("average_pooling2d_1"), conf.getVertexInputs().get("conv2d_12"));
    assertArrayEquals(new int[] {1, 1}, conv(conf, "conv2d_32").getKernelSize());
    assertArrayEquals(new int[] {1, 7}, conv(conf, "conv2d_33").getKernelSize());
    assertArrayEquals(new int[] {7, 1}, conv(conf, "conv2d_34").getKernelSize());
    assertEquals(List.of("activation_79", "activation_80"), conf.getVertexInputs().get("mixed9_0"));
    assertEquals(
        List.of("activation_83", "activation_84"), conf.getVertexInputs().get("concatenate_1"));
    assertEquals(
        List.of("activation_77", "mixed9_0", "concatenate_1", "activation_85"),
        conf.getVertexInputs().get("mixed9"));
    assertEquals(List.of("activation_88", "activation_89"), conf.getVertexInputs().get("mixed9_1"));
    assertEquals(
        List.of("activation_92", "activation_93"), conf.getVertexInputs().get("concatenate_2"));
    assertEquals(
        List.of("activation_86", "mixed9_1", "concatenate_2", "activation_94"),
        conf.getVertexInputs().get("mixed10"));
    assertEquals(List.of("mixed9"), conf.getVertexInputs().get("conv2d_86"));
  }

  private static ConvolutionLayer conv(ComputationGraphConfiguration conf, String name) {
    return (ConvolutionLayer)
        ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get(name))
            .getLayerConf()
            .getLayer();
  }

  @Test
  void blocksCoverEveryLayerInOrder() {
    assertEquals(12, InceptionV3.blockNames().size());
    assertEquals("stem", InceptionV3.blockNames().get(0));
    assertEquals("mixed10", InceptionV3.blockNames().get(11));
    List<String> all = new ArrayList<>();
    InceptionV3.blocks().values().forEach(all::addAll);
    assertEquals(310, all.size());
    assertEquals(17, InceptionV3.blocks().get("stem").size());
    assertEquals("max_pooling2d_2", InceptionV3.blocks().get("stem").get(16));
    assertEquals("mixed10", all.get(all.size() - 1));
  }

  @Test
  void rejectsInputsBelowKerasMinimum() {
    GraftException e = assertThrows(GraftException.class, () -> InceptionV3.build(74, 1));
    assertTrue(e.getMessage().contains("74"), e.getMessage());
  }
}
