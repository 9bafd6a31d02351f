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
 * @param solver how the weights are found
 * @param l2 L2 strength of an L-BFGS head (NaN: cross-validated; ignored for Adam)
 */
public record HeadSpec(
    Reduction reduction, double inputDropout, List<Dense> hidden, Solver solver, double l2)
    implements Head {

  /** An Adam-trained head. */
  public HeadSpec(Reduction reduction, double inputDropout, List<Dense> hidden) {
    this(reduction, inputDropout, hidden, Solver.ADAM, Double.NaN);
  }

  /** Validates and copies. */
  public HeadSpec {
    if (reduction == null) {
      throw new GraftException("a head needs a reduction (average pooling or flatten), got null");
    }
    if (!(inputDropout >= 0 && inputDropout < 1)) {
      throw new GraftException("dropout must be in [0, 1), got " + inputDropout);
    }
    hidden = List.copyOf(hidden);
    if (solver == null) {
      throw new GraftException("a head needs a solver (ADAM or LBFGS), got null");
    }
    if (solver == Solver.LBFGS && (!hidden.isEmpty() || inputDropout > 0)) {
      throw new GraftException(
          "a logistic-regression (L-BFGS) head has no hidden layers or dropout, got " + hidden);
    }
  }

  @Override
  public String toString() {
    return describe();
  }
}
