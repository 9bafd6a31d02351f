package dev.graft.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Memory-bounded forward passes: how a batch is split, and that splitting changes no result. */
class InferenceNetworkTest {
  private static final Logger log = LoggerFactory.getLogger(InferenceNetworkTest.class);

  @Test
  void aBatchSplitIntoChunksGivesTheSameFeatures() throws Exception {
    try (Base base = Bases.of(Architecture.RESNET50).weights(Weights.none()).inputSize(32).load();
        InferenceNetwork net =
            InferenceNetwork.of(base.graph(), List.of(), List.of(base.featureLayer()))) {
      Nd4j.getRandom().setSeed(5);
      INDArray x = Nd4j.rand(DataType.FLOAT, 5, 3, 32, 32);
      assertEquals(5, net.chunkSize(x), "a small batch runs whole under the default budget");
      INDArray whole = net.output(x)[0];
      String saved = System.getProperty(InferenceNetwork.BUDGET_PROPERTY);
      System.setProperty(InferenceNetwork.BUDGET_PROPERTY, "1");
      try {
        int chunk = net.chunkSize(x);
        assertTrue(chunk < 5, "a 1 MiB budget splits the batch, chunk " + chunk);
        INDArray chunked = net.output(x)[0];
        assertArrayEquals(whole.shape(), chunked.shape());
        double diff = chunked.sub(whole).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5 * whole.amaxNumber().doubleValue(), "chunked differs by " + diff);
      } finally {
        if (saved == null) {
          System.clearProperty(InferenceNetwork.BUDGET_PROPERTY);
        } else {
          System.setProperty(InferenceNetwork.BUDGET_PROPERTY, saved);
        }
      }
    }
  }

  @Test
  void vgg16At224IsSplitToTheBudgetAtTheDefaultBatch() throws Exception {
    try (Base base = Bases.of(Architecture.VGG16).weights(Weights.none()).load();
        InferenceNetwork net =
            InferenceNetwork.of(base.graph(), List.of(), List.of(base.featureLayer()))) {
      INDArray batch = Nd4j.zeros(DataType.FLOAT, 32, 3, base.inputSize(), base.inputSize());
      int chunk = net.chunkSize(batch);
      log.warn(
          "VGG16 at {} px: batch 32 runs in chunks of {} images (budget {} MiB)",
          base.inputSize(),
          chunk,
          InferenceNetwork.budgetBytes() >> 20);
      // the second convolution alone needs 576 x 224 x 224 floats of im2col per image (110 MB)
      assertTrue(
          chunk >= 1 && chunk * 110L << 20 <= InferenceNetwork.budgetBytes(), "chunk " + chunk);
    }
  }
}
