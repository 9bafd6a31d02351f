package dev.graft.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.conf.inputs.InputType;

/**
 * Assertions on DL4J activation types, for the tests that compare graphs with Keras's summaries.
 */
public final class Shapes {
  private Shapes() {}

  /** {@code t} is a convolutional activation of {@code channels} × {@code side} × {@code side}. */
  public static void assertCnn(InputType t, long channels, long side) {
    InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) t;
    assertEquals(channels, c.getChannels(), t.toString());
    assertEquals(side, c.getHeight(), t.toString());
    assertEquals(side, c.getWidth(), t.toString());
  }
}
