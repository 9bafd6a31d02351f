package dev.graft.nn;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A transformer block's residual connection with stochastic depth (timm's {@code DropPath}): two
 * inputs, in this order, the shortcut {@code x} and the branch {@code f(x)}, of equal shape; the
 * output is {@code x + f(x)} in inference, and in training {@code x + f(x) · m / (1 − rate)} with
 * {@code m} one Bernoulli(1 − rate) draw per example (the whole branch dropped for that example).
 * No parameters; serialises to JSON by its class name and {@code dropRate}.
 */
public final class ResidualVertex extends GraphVertex {
  private static final long serialVersionUID = 1L;

  private double dropRate;

  /** For JSON: a plain residual sum. */
  public ResidualVertex() {}

  /** A residual sum whose branch is dropped per example with probability {@code dropRate}. */
  public ResidualVertex(double dropRate) {
    if (!(dropRate >= 0 && dropRate < 1)) {
      throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + dropRate);
    }
    this.dropRate = dropRate;
  }

  /** The probability that a training example skips the branch. */
  public double getDropRate() {
    return dropRate;
  }

  /** For JSON. */
  public void setDropRate(double dropRate) {
    this.dropRate = dropRate;
  }

  @Override
  public ResidualVertex clone() {
    return new ResidualVertex(dropRate);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResidualVertex r && r.dropRate == dropRate;
  }

  @Override
  public int hashCode() {
    return Double.hashCode(dropRate);
  }

  @Override
  public long numParams(boolean backprop) {
    return 0;
  }

  @Override
  public int minVertexInputs() {
    return 2;
  }

  @Override
  public int maxVertexInputs() {
    return 2;
  }

  @Override
  public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType networkDatatype) {
    return new Residual(graph, name, idx, networkDatatype, dropRate);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType... in) throws InvalidInputTypeException {
    if (in.length != 2 || !in[0].equals(in[1])) {
      throw new InvalidInputTypeException(
          "ResidualVertex takes 2 inputs of one shape (shortcut, branch), got "
              + java.util.Arrays.toString(in));
    }
    return in[0];
  }

  @Override
  public MemoryReport getMemoryReport(InputType... inputTypes) {
    InputType out = getOutputType(-1, inputTypes);
    return new LayerMemoryReport.Builder(null, ResidualVertex.class, inputTypes[0], out)
        .standardMemory(0, 0)
        .workingMemory(0, 0, 0, 0)
        .cacheMemory(0, 0)
        .build();
  }
}
