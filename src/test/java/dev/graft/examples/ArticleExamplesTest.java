package dev.graft.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.base.Weights;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.metrics.EpochRecord;
import dev.graft.model.TransferModel;
import dev.graft.testing.Digits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs the three article listings at 32 px on real MNIST digits (6 per class to train, 3 to
 * validate). ImageNet weights cannot be downloaded here, so VGG16 has its seeded random weights
 * ({@code Weights.none()}), whose features carry little about digits: the tests check what each
 * listing claims about the model (what is frozen and stays bit-identical, what trains and at which
 * rate, the head's shape, softmax over the 10 classes) and that the training loss goes down. That
 * the strategies transfer knowledge to beat training from scratch is shown with a base pretrained
 * on digits in {@link dev.graft.StrategiesTransferTest}.
 */
class ArticleExamplesTest {
  private static final List<Integer> ALL = List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  private static final List<String> CONVS =
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
          "block5_conv3");
  @TempDir static Path dir;
  private static ImageDataset train;
  private static ImageDataset validation;
  private static Base vgg16;

  @BeforeAll
  static void setUp() throws IOException {
    Digits.data().extract(dir.resolve("train"), ALL, 0, 6);
    Digits.data().extract(dir.resolve("validation"), ALL, 10, 3);
    train = ImageFolder.of(dir.resolve("train"));
    validation = ImageFolder.of(dir.resolve("validation"));
    // Random weights were never trained on Caffe-scaled pixels (means subtracted, so the black
    // background is -100 to -124 everywhere): the random features explode and the loss with them.
    // Pixels in [0, 1] keep the loss finite and smooth.
    vgg16 =
        Bases.vgg16()
            .weights(Weights.none())
            .inputSize(32)
            .preprocessing(Preprocessing.unit())
            .load();
  }

  /** The training loss went down and the network outputs a distribution over the 10 digits. */
  private static void assertLearns(TransferModel model) {
    List<EpochRecord> h = model.info().history().epochs();
    assertTrue(
        h.get(h.size() - 1).trainLoss() < h.get(0).trainLoss(),
        "training loss did not go down: " + model.info().history().toCsv());
    INDArray p = model.network().outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32));
    assertEquals(10, p.size(1));
    assertEquals(1.0, p.getRow(0).sumNumber().doubleValue(), 1e-4);
    assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), model.labels());
  }

  private static float[] params(ComputationGraph g, String layer) {
    return g.getLayer(layer).params().dup().data().asFloat();
  }

  @Test
  void listingA_frozenVgg16WithFlattenDenseHead() {
    TransferModel model = FrozenVgg16Example.train(vgg16, train, validation, 8);
    ComputationGraph net = model.network();
    for (String conv : CONVS) {
      assertInstanceOf(FrozenLayer.class, net.getLayer(conv), conv);
      assertArrayEquals(params(vgg16.graph(), conv), params(net, conv), conv + " changed");
    }
    // Flatten (512 x 1 x 1 at 32 px) -> Dense(256, relu) -> Dense(10, softmax)
    DenseLayer dense = (DenseLayer) net.getLayer("head_dense_1").conf().getLayer();
    assertEquals(512, dense.getNIn());
    assertEquals(256, dense.getNOut());
    OutputLayer out = (OutputLayer) net.getLayer("head_output").conf().getLayer();
    assertEquals(10, out.getNOut());
    assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());
    assertEquals(1e-3, net.getLearningRate("head_output"), 1e-12);
    assertLearns(model);
  }

  @Test
  void listingB_lastFourLayersUnfrozenAtAdam1e4() {
    TransferModel model = FineTuneVgg16Example.train(vgg16, train, validation, 2, 3);
    ComputationGraph net = model.network();
    for (String conv : CONVS) {
      boolean unfrozen = conv.startsWith("block5");
      boolean changed = !Arrays.equals(params(vgg16.graph(), conv), params(net, conv));
      assertEquals(unfrozen, changed, conv + (unfrozen ? " did not train" : " changed"));
      if (unfrozen) {
        assertEquals(1e-4, net.getLearningRate(conv), 1e-12, conv);
      } else {
        assertInstanceOf(FrozenLayer.class, net.getLayer(conv), conv);
      }
    }
    assertEquals(1e-4, net.getLearningRate("head_dense_1"), 1e-12);
    assertEquals(1e-4, net.getLearningRate("head_output"), 1e-12);
    assertEquals(5, model.info().history().size()); // 2 epochs of listing (a), 3 of listing (b)
    assertFalse(model.info().provenance().unfrozen().stream().anyMatch(l -> l.contains("block4")));
    assertLearns(model);
  }

  @Test
  void listingC_frozenVgg16WithGlobalAveragePoolingHead() {
    TransferModel model = GapVgg16Example.train(vgg16, train, validation, 8);
    ComputationGraph net = model.network();
    for (String conv : CONVS) {
      assertArrayEquals(params(vgg16.graph(), conv), params(net, conv), conv + " changed");
    }
    DenseLayer dense = (DenseLayer) net.getLayer("head_dense_1").conf().getLayer();
    assertEquals(512, dense.getNIn()); // one number per channel, whatever the input size
    assertEquals(128, dense.getNOut());
    assertEquals(10, ((OutputLayer) net.getLayer("head_output").conf().getLayer()).getNOut());
    assertLearns(model);
  }
}
