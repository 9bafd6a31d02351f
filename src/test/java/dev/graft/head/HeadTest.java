package dev.graft.head;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.graft.base.Architecture;
import dev.graft.error.GraftException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;

class HeadTest {
  @Test
  void fluentCallsBuildTheDescribedHead() {
    Head h = Head.averagePooling().dense(256).dropout(0.3).dense(64).activation(Activation.TANH);
    assertEquals(Head.Reduction.AVERAGE_POOLING, h.reduction());
    assertEquals(2, h.hidden().size());
    assertEquals(new Head.Dense(256, Activation.RELU, 0.3), h.hidden().get(0));
    assertEquals(new Head.Dense(64, Activation.TANH, 0), h.hidden().get(1));
    assertEquals(
        "GlobalAveragePooling -> Dense(256, relu) -> Dropout(0.3) -> Dense(64, tanh)"
            + " -> Dense(classes, softmax)",
        h.describe());
    assertEquals(0.2, Head.flatten().dropout(0.2).inputDropout());
  }

  @Test
  void headsAreImmutableValues() {
    Head base = Head.flatten();
    Head withDense = base.dense(10);
    assertEquals(0, base.hidden().size());
    assertEquals(1, withDense.hidden().size());
    assertEquals(Head.flatten().dense(10), withDense);
  }

  @Test
  void defaultsFollowTheCatalog() {
    assertEquals(Head.flatten().dense(256).dropout(0.5), Architecture.VGG16.defaultHead());
    assertEquals(Head.averagePooling(), Architecture.RESNET50.defaultHead());
    assertEquals(Head.averagePooling(), Architecture.INCEPTION_V3.defaultHead());
  }

  @Test
  void impossibleValuesAreRejected() {
    assertThrows(GraftException.class, () -> Head.averagePooling().dense(0));
    assertThrows(GraftException.class, () -> Head.averagePooling().dense(8).dropout(1.0));
    assertThrows(GraftException.class, () -> Head.averagePooling().dropout(-0.1));
    assertThrows(GraftException.class, () -> Head.flatten().activation(Activation.RELU));
  }
}
