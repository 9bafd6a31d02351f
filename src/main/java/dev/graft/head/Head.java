package dev.graft.head;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.activations.Activation;

/**
 * The classifier put on top of a base: a reduction of the base's feature map to a vector (global
 * average pooling or flatten), optional hidden dense layers with dropout, and a softmax output
 * whose width is the number of classes in the training data. A head is an immutable value; each
 * fluent call returns a new one.
 *
 * <pre>{@code
 * Head.averagePooling();                          // GAP -> softmax (logistic regression on pooled features)
 * Head.averagePooling().dense(256).dropout(0.3);  // GAP -> Dense(256, relu) -> Dropout(0.3) -> softmax
 * Head.flatten().dense(256);                      // the classic VGG16 head: Flatten -> Dense(256, relu) -> softmax
 * Head.logisticRegression();                      // GAP -> softmax fitted to convergence (L-BFGS, L2 by CV)
 * }</pre>
 *
 * <p>Two ways to train the softmax: {@link Solver#ADAM}, minibatch epochs like every other layer,
 * and {@link Solver#LBFGS}, a multinomial logistic regression fitted to convergence on the cached
 * features by full-batch L-BFGS with an L2 penalty ({@link SoftmaxRegression}). The second needs
 * the base frozen and its output cached (the frozen and features strategies without augmentation);
 * it is the features strategy's default head. Either way the result is the same DL4J softmax layer.
 *
 * <p>Dropout follows Keras: {@code dropout(p)} drops a fraction {@code p} of the values produced by
 * the layer before it (DL4J itself speaks of the retain probability {@code 1 - p}).
 */
public sealed interface Head permits HeadSpec {

  /** How the base's {@code [N, C, h, w]} feature map becomes a vector. */
  enum Reduction {
    /** Mean over the spatial positions: {@code [N, C]}. Works at any input size. */
    AVERAGE_POOLING,
    /** All values in order: {@code [N, C*h*w]}. Ties the head to one input size. */
    FLATTEN
  }

  /**
   * One hidden dense layer.
   *
   * @param units width
   * @param activation activation function
   * @param dropout fraction of this layer's outputs dropped in training, in [0, 1)
   */
  record Dense(int units, Activation activation, double dropout) {
    /** Validates the values. */
    public Dense {
      if (units < 1) {
        throw new GraftException("a dense layer needs at least one unit, got " + units);
      }
      if (activation == null) {
        throw new GraftException("a dense layer needs an activation, got null");
      }
      checkDropout(dropout);
    }
  }

  /** How the head's weights are found. */
  enum Solver {
    /** Minibatch Adam epochs, with the rest of the trainable network (the hidden-layer head). */
    ADAM,
    /**
     * Full-batch L-BFGS to convergence on cached features, with an L2 penalty: a multinomial
     * logistic regression; no hidden layers, no dropout.
     */
    LBFGS
  }

  /** Global average pooling, then (unless dense layers are added) straight to the softmax. */
  static Head averagePooling() {
    return new HeadSpec(Reduction.AVERAGE_POOLING, 0, List.of());
  }

  /** Flatten, then (unless dense layers are added) straight to the softmax. */
  static Head flatten() {
    return new HeadSpec(Reduction.FLATTEN, 0, List.of());
  }

  /**
   * Global average pooling, then a softmax fitted to convergence ({@link Solver#LBFGS}), its L2
   * strength chosen by cross-validation on the training labels (or on the validation set when there
   * is one). The default head of the features strategy (the base's output is always cached there);
   * frozen base and fine-tuning use it only when given it.
   */
  static Head logisticRegression() {
    return new HeadSpec(Reduction.AVERAGE_POOLING, 0, List.of(), Solver.LBFGS, Double.NaN);
  }

  /**
   * How the weights are found ({@link Solver#ADAM} unless built by {@link #logisticRegression}).
   */
  Solver solver();

  /**
   * The L2 strength of a {@link Solver#LBFGS} head, on standardised features; NaN: chosen by
   * cross-validation.
   */
  double l2();

  /**
   * The same reduction with another solver: {@code Head.flatten().solver(Solver.LBFGS)} is a
   * logistic regression on the flattened feature map. {@link Solver#LBFGS} refuses hidden layers
   * and dropout.
   */
  default Head solver(Solver s) {
    if (s == null) {
      throw new GraftException("solver must be ADAM or LBFGS, got null");
    }
    return new HeadSpec(reduction(), inputDropout(), hidden(), s, l2());
  }

  /** A logistic-regression head with a fixed L2 strength (no cross-validation). */
  default Head l2(double strength) {
    if (solver() != Solver.LBFGS) {
      throw new GraftException(
          "l2(" + strength + ") applies to Head.logisticRegression(), not to " + describe());
    }
    if (!(strength >= 0 && Double.isFinite(strength))) {
      throw new GraftException("l2 strength must be >= 0, got " + strength);
    }
    return new HeadSpec(reduction(), inputDropout(), hidden(), solver(), strength);
  }

  /** How the feature map becomes a vector. */
  Reduction reduction();

  /** Fraction of the reduced features dropped before the first dense layer (0: none). */
  double inputDropout();

  /** The hidden dense layers, input side first; the softmax output is not listed. */
  List<Dense> hidden();

  /** Appends a hidden dense layer with ReLU activation (an Adam-trained head only). */
  default Head dense(int units) {
    requireAdam("dense(" + units + ")");
    List<Dense> layers = new ArrayList<>(hidden());
    layers.add(new Dense(units, Activation.RELU, 0));
    return new HeadSpec(reduction(), inputDropout(), layers);
  }

  /**
   * Drops a fraction {@code p} of the outputs of the layer added last (of the reduced features when
   * no dense layer was added yet) while training.
   *
   * @param p drop rate in [0, 1)
   */
  default Head dropout(double p) {
    requireAdam("dropout(" + p + ")");
    checkDropout(p);
    List<Dense> layers = new ArrayList<>(hidden());
    if (layers.isEmpty()) {
      return new HeadSpec(reduction(), p, layers);
    }
    Dense last = layers.remove(layers.size() - 1);
    layers.add(new Dense(last.units(), last.activation(), p));
    return new HeadSpec(reduction(), inputDropout(), layers);
  }

  /** Sets the activation of the dense layer added last. */
  default Head activation(Activation activation) {
    List<Dense> layers = new ArrayList<>(hidden());
    if (layers.isEmpty()) {
      throw new GraftException("activation(" + activation + ") needs a dense layer before it");
    }
    Dense last = layers.remove(layers.size() - 1);
    layers.add(new Dense(last.units(), activation, last.dropout()));
    return new HeadSpec(reduction(), inputDropout(), layers);
  }

  /**
   * A one-line description, e.g. {@code GlobalAveragePooling -> Dense(256, relu) -> Dropout(0.3) ->
   * Dense(classes, softmax)}.
   */
  default String describe() {
    StringBuilder sb =
        new StringBuilder(
            reduction() == Reduction.AVERAGE_POOLING ? "GlobalAveragePooling" : "Flatten");
    if (inputDropout() > 0) {
      sb.append(" -> Dropout(").append(inputDropout()).append(')');
    }
    for (Dense d : hidden()) {
      sb.append(" -> Dense(")
          .append(d.units())
          .append(", ")
          .append(d.activation().name().toLowerCase(java.util.Locale.ROOT))
          .append(')');
      if (d.dropout() > 0) {
        sb.append(" -> Dropout(").append(d.dropout()).append(')');
      }
    }
    sb.append(" -> Dense(classes, softmax)");
    if (solver() == Solver.LBFGS) {
      sb.append(" fitted by L-BFGS, L2 ")
          .append(Double.isNaN(l2()) ? "by cross-validation" : Double.toString(l2()));
    }
    return sb.toString();
  }

  private void requireAdam(String call) {
    if (solver() == Solver.LBFGS) {
      throw new GraftException(
          call
              + ": a logistic-regression head has no hidden layers or dropout; use"
              + " Head.averagePooling()."
              + call
              + " for a head trained by Adam");
    }
  }

  private static void checkDropout(double p) {
    if (!(p >= 0 && p < 1)) {
      throw new GraftException("dropout must be in [0, 1), got " + p);
    }
  }
}
