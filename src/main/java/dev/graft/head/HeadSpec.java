package dev.graft.head;

import dev.graft.error.GraftException;
import java.util.List;

/**
 * The one implementation of {@link Head}: build it with {@link Head#averagePooling()} or {@link
 * Head#flatten()} and the fluent calls.
 *
 * @param reduction how the feature map becomes a vector
 * @param inputDropout fraction of the reduced features dropped in training
 * @param hidden hidden dense layers, input side first
 */
public record HeadSpec(Reduction reduction, double inputDropout, List<Dense> hidden)
    implements Head {

  /** Validates and copies. */
  public HeadSpec {
    if (reduction == null) {
      throw new GraftException("a head needs a reduction (average pooling or flatten), got null");
    }
    if (!(inputDropout >= 0 && inputDropout < 1)) {
      throw new GraftException("dropout must be in [0, 1), got " + inputDropout);
    }
    hidden = List.copyOf(hidden);
  }

  @Override
  public String toString() {
    return describe();
  }
}
