package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import java.io.IOException;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Closing releases native memory once, and never memory the closer does not own. */
class ClosingTest {
  private static final List<String> LABELS = List.of("a", "b", "c", "d", "e");

  @Test
  void aModelReleasesItsNetworkOnceAcrossCopies() {
    ComputationGraph net = TinyNets.classifier(28, 5, 1);
    TransferModel model = new TransferModel(net, TinyNets.info(LABELS, 28));
    TransferModel copy = model.withInfo(model.info());
    assertFalse(net.params().wasClosed());
    model.close();
    assertTrue(net.params().wasClosed());
    model.close();
    copy.close();
  }

  @Test
  void aBaseReleasesOnlyAGraphItMade() throws IOException {
    ComputationGraph mine = TinyNets.classifier(28, 5, 2);
    INDArray x = Nd4j.rand(2, 3, 28, 28);
    INDArray before = mine.outputSingle(x).dup();

    Base asIs = Bases.fromGraph("mine", mine).inputSize(28).cut("out").load();
    asIs.close();
    asIs.close();
    assertFalse(mine.params().wasClosed());
    assertEquals(before, mine.outputSingle(x));

    Base cut =
        Bases.fromGraph("mine", mine)
            .inputSize(28)
            .load(); // cut before the output layer: a new graph
    ComputationGraph made = cut.graph();
    cut.close();
    assertTrue(made.params().wasClosed());
    cut.close();
    assertFalse(mine.params().wasClosed());
  }
}
