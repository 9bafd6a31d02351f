package dev.graft.nn;

import java.util.Arrays;
import java.util.Objects;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The sum of two activations of one shape, then an activation function: a residual block's {@code
 * add} and the ReLU after it as one vertex, {@code out = act(a + b)}.
 *
 * <p>Why: DL4J runs the pair as an {@code ElementWiseVertex} (a copy of {@code a}, then {@code +=
 * b}) and an {@code ActivationLayer} (a copy into its workspace, then the function in place): four
 * passes over the activation, where this vertex makes two. On ResNet50 at 224 px those passes run
 * over 88 M values per batch of 16. Graft's inference rewrite ({@code InferenceGraphs}) builds it;
 * with {@link ActivationIdentity} it is a plain sum in one pass. It has no parameters and
 * serialises to JSON by its class name and activation.
 */
public final class SumActivationVertex extends ParameterFreeVertexConf {
  private static final long serialVersionUID = 1L;

  private IActivation activation = new ActivationIdentity();

  /** A plain sum (identity activation); for JSON deserialisation. */
  public SumActivationVertex() {}

  /**
   * The sum followed by {@code activation}.
   *
   * @param activation applied to the sum, in place
   */
  public SumActivationVertex(IActivation activation) {
    this.activation = Objects.requireNonNull(activation, "activation");
  }

  /** The function applied to the sum. */
  public IActivation getActivation() {
    return activation;
  }

  /** For JSON deserialisation: the function applied to the sum. */
  public void setActivation(IActivation activation) {
    this.activation = activation == null ? new ActivationIdentity() : activation;
  }

  @Override
  public SumActivationVertex clone() {
    return new SumActivationVertex(activation);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SumActivationVertex s && s.activation.equals(activation);
  }

  @Override
  public int hashCode() {
    return SumActivationVertex.class.getName().hashCode() * 31 + activation.hashCode();
  }

  @Override
  protected int inputCount() {
    return 2;
  }

  @Override
  protected ParameterFreeVertex create(
      ComputationGraph graph, String name, int index, DataType dataType) {
    return new SumActivation(graph, name, index, activation, dataType);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType... in) throws InvalidInputTypeException {
    if (in.length != 2 || !Arrays.equals(in[0].getShape(), in[1].getShape())) {
      throw new InvalidInputTypeException(
          "SumActivationVertex adds 2 inputs of one shape, got " + Arrays.toString(in));
    }
    return in[0];
  }

  @Override
  public String toString() {
    return "SumActivationVertex(" + activation + ")";
  }
}
