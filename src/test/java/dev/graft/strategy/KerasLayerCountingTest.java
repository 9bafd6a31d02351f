package dev.graft.strategy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.error.GraftException;
import dev.graft.head.Head;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link FineTune#unfreezeLastKerasLayers}: the article's listing 2 says {@code base.layers[-4:]};
 * on Graft's VGG16 (Keras's layers and names) that is block5_conv1..3 and block5_pool, so the three
 * convolutions train, as {@code unfreezeLast(3)} says it.
 */
class KerasLayerCountingTest {
  private static Base vgg16;

  @BeforeAll
  static void base() throws java.io.IOException {
    vgg16 = Bases.vgg16().weights(Weights.none()).inputSize(32).load();
  }

  @AfterAll
  static void close() {
    vgg16.close();
  }

  private static List<String> unfrozen(FineTune f) {
    return TransferGraph.assemble(vgg16, Head.flatten().dense(8), f, GraphOptions.of(2))
        .unfrozenBaseLayers();
  }

  @Test
  void kerasLastFourLayersOfVgg16AreItsLastThreeConvolutions() {
    List<String> keras = unfrozen(Strategy.fineTune().unfreezeLastKerasLayers(4));
    assertEquals(List.of("block5_conv1", "block5_conv2", "block5_conv3"), keras);
    assertEquals(unfrozen(Strategy.fineTune().unfreezeLast(3)), keras);
    // one more Keras layer reaches back over block4_pool (no weights) only
    assertEquals(keras, unfrozen(Strategy.fineTune().unfreezeLastKerasLayers(5)));
    assertEquals(
        List.of("block4_conv3", "block5_conv1", "block5_conv2", "block5_conv3"),
        unfrozen(Strategy.fineTune().unfreezeLastKerasLayers(6)));
  }

  @Test
  void aSliceWithoutWeightsOrTooLongIsRefused() {
    GraftException none =
        assertThrows(
            GraftException.class, () -> unfrozen(Strategy.fineTune().unfreezeLastKerasLayers(1)));
    assertTrue(none.getMessage().contains("no base layer to unfreeze"), none.getMessage());
    GraftException tooMany =
        assertThrows(
            GraftException.class,
            () -> unfrozen(Strategy.fineTune().unfreezeLastKerasLayers(1000)));
    assertTrue(
        tooMany.getMessage().contains("unfreezeLastKerasLayers(1000)"), tooMany.getMessage());
    assertThrows(GraftException.class, () -> Strategy.fineTune().unfreezeLastKerasLayers(0));
  }
}
