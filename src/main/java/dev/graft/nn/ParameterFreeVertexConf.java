package dev.graft.nn;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The configuration side of a {@link ParameterFreeVertex}: a fixed number of inputs, no parameters,
 * a memory report of its output only, and its running form made by {@link #create}.
 */
public abstract class ParameterFreeVertexConf extends GraphVertex {
  private static final long serialVersionUID = 1L;

  /** How many inputs the vertex takes. */
  protected abstract int inputCount();

  /**
   * The running form of this vertex.
   *
   * @param graph the graph it runs in
   * @param name its name in the graph
   * @param index its index in the graph
   * @param dataType the network's data type
   * @return the vertex
   */
  protected abstract ParameterFreeVertex create(
      ComputationGraph graph, String name, int index, DataType dataType);

  @Override
  public int minVertexInputs() {
    return inputCount();
  }

  @Override
  public int maxVertexInputs() {
    return inputCount();
  }

  @Override
  public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType networkDatatype) {
    return create(graph, name, idx, networkDatatype);
  }

  @Override
  public long numParams(boolean backprop) {
    return 0;
  }

  @Override
  public MemoryReport getMemoryReport(InputType... inputTypes) {
    InputType out = getOutputType(-1, inputTypes);
    return new LayerMemoryReport.Builder(null, getClass(), inputTypes[0], out)
        .standardMemory(0, 0)
        .workingMemory(0, 0, 0, 0)
        .cacheMemory(0, 0)
        .build();
  }
}
