package dev.graft.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

  /**
   * A copy for another thread reads the same parameters (no second copy of the weights, no
   * optimizer state), computes the same features, on other threads too, and keeps working until it
   * is closed itself; the last of them to close frees the parameters.
   */
  @Test
  void copiesShareTheParametersUntilTheLastCloses() throws Exception {
    try (Base base = Bases.of(Architecture.RESNET50).weights(Weights.none()).inputSize(32).load()) {
      InferenceNetwork original =
          InferenceNetwork.of(base.graph(), List.of(), List.of(base.featureLayer()));
      Nd4j.getRandom().setSeed(9);
      INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 32, 32);
      float[] expected = original.output(x)[0].data().asFloat();
      InferenceNetwork a = original.copy();
      InferenceNetwork b = a.copy();
      INDArray params = original.graph().params();
      for (InferenceNetwork c : List.of(a, b)) {
        assertEquals(params.data().address(), c.graph().params().data().address(), "shared");
        assertEquals(null, c.graph().getUpdater(false), "no optimizer made for a copy");
      }
      float[][] onThreads = new float[2][];
      Thread[] threads = new Thread[2];
      InferenceNetwork[] copies = {a, b};
      for (int i = 0; i < 2; i++) {
        int t = i;
        threads[i] = new Thread(() -> onThreads[t] = copies[t].output(x)[0].data().asFloat());
        threads[i].start();
      }
      for (Thread t : threads) {
        t.join();
      }
      assertArrayEquals(expected, onThreads[0], 0f);
      assertArrayEquals(expected, onThreads[1], 0f);

      original.close();
      a.close();
      assertFalse(params.wasClosed(), "b still reads them");
      assertArrayEquals(expected, b.output(x)[0].data().asFloat(), 0f);
      assertThrows(IllegalStateException.class, () -> a.output(x));
      b.close();
      assertTrue(params.wasClosed(), "freed with the last");
      b.close(); // twice is safe
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
