package dev.graft.base.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Keras weight files of the catalog's VGG16 and ResNet50, read through {@code Weights.keras}. */
class KerasBasesTest {

  @TempDir Path dir;

  @Test
  void vgg16KerasFileLoadsThroughBases() throws IOException {
    ComputationGraph source = Architecture.VGG16.build(32, 1);
    Path h5 = dir.resolve("vgg16_notop.h5");
    KerasWeightsWriter.save(source, h5);
    assertEquals(
        List.of(
            "block1_conv1",
            "block1_conv2",
            "block2_conv1",
            "block2_conv2",
            "block3_conv1",
            "block3_conv2",
            "block3_conv3",
            "block4_conv1",
            "block4_conv2",
            "block4_conv3",
            "block5_conv1",
            "block5_conv2",
            "block5_conv3"),
        KerasWeights.layersWithWeights(h5));
    Base base = Bases.vgg16().weights(Weights.keras(h5)).inputSize(32).load();
    INDArray x = Nd4j.rand(DataType.FLOAT, 1, 3, 32, 32).muli(100);
    assertEquals(source.outputSingle(x), base.graph().outputSingle(x));
    assertTrue(base.weightsKey().startsWith("keras:"), base.weightsKey());
  }

  @Test
  void resnet50KerasFilesOfBothNamingsLoadThroughBases() throws IOException {
    // Keras weights load into Keras's layout: pool1_pad before the stem's max pooling
    ComputationGraph source = Architecture.RESNET50.buildForKeras(32, 1);
    assertTrue(source.getConfiguration().getVertices().containsKey("pool1_pad"));
    KerasWeightsTest.randomiseBatchNorm(source);
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32);
    INDArray want = source.feedForward(x, false).get("res5c_branch").dup();

    // keras-applications 1.0.8 names: the zoo's, with the stem as conv1 / bn_conv1
    Path h5 = dir.resolve("resnet50_notop.h5");
    KerasWeightsWriter.save(source, h5);
    List<String> layers = KerasWeights.layersWithWeights(h5);
    assertEquals(106, layers.size()); // 53 convolutions, 53 batch normalisations
    assertTrue(
        layers.containsAll(List.of("conv1", "bn_conv1", "res2a_branch1", "bn5c_branch2c")),
        layers.toString());
    Base base = Bases.resnet50().weights(Weights.keras(h5)).inputSize(32).load();
    assertTrue(base.graph().getConfiguration().getVertices().containsKey("pool1_pad"));
    INDArray got = base.graph().outputSingle(x);
    assertTrue(want.equalsWithEps(got, 1e-3), "max diff " + want.sub(got).amaxNumber());
    assertEquals(1e-3, epsilon(base.graph(), "bn3b_branch2a"));

    // tf.keras / Keras 3 names (conv1_conv, conv2_block1_1_conv, ...) and their epsilon 1.001e-5
    Path tf = dir.resolve("resnet50_tf_keras_notop.h5");
    KerasWeightsWriter.save(source, tf, KerasBasesTest::tfKerasName);
    assertTrue(
        KerasWeights.layersWithWeights(tf)
            .containsAll(
                List.of("conv1_conv", "conv1_bn", "conv2_block1_0_conv", "conv5_block3_3_bn")));
    Base tfBase = Bases.resnet50().weights(Weights.keras(tf)).inputSize(32).load();
    INDArray tfGot = tfBase.graph().outputSingle(x);
    assertTrue(want.equalsWithEps(tfGot, 1e-3), "max diff " + want.sub(tfGot).amaxNumber());
    assertEquals(1.001e-5, epsilon(tfBase.graph(), "bn3b_branch2a"));
  }

  private static double epsilon(ComputationGraph g, String layer) {
    return ((BatchNormalization) g.getLayer(layer).conf().getLayer()).getEps();
  }

  private static final Pattern ZOO = Pattern.compile("(res|bn)(\\d)([a-f])_branch(1|2a|2b|2c)");

  /** The name tf.keras's ResNet50 gives the layer Graft's graph calls {@code name}. */
  static String tfKerasName(String name) {
    switch (name) {
      case "stem-cnn1":
        return "conv1_conv";
      case "stem-batch1":
        return "conv1_bn";
      default:
        break;
    }
    Matcher m = ZOO.matcher(name);
    if (!m.matches()) {
      return name;
    }
    int block = m.group(3).charAt(0) - 'a' + 1;
    String branch = m.group(4);
    int k = branch.equals("1") ? 0 : branch.charAt(1) - 'a' + 1;
    return "conv"
        + m.group(2)
        + "_block"
        + block
        + "_"
        + k
        + (m.group(1).equals("res") ? "_conv" : "_bn");
  }
}
