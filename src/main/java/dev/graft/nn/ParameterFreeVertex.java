package dev.graft.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The running form of a graph vertex without parameters or layer (Graft's {@link
 * ChannelMultiplyVertex}, the layout conversions of {@code dev.graft.graph}): what DL4J asks of
 * every such vertex besides its forward and backward pass. Masks pass through from the first input.
 */
public abstract class ParameterFreeVertex extends BaseGraphVertex {

  /**
   * A vertex of {@code graph}.
   *
   * @param graph the graph it runs in
   * @param name its name in the graph
   * @param index its index in the graph
   * @param dataType the network's data type
   */
  protected ParameterFreeVertex(ComputationGraph graph, String name, int index, DataType dataType) {
    super(graph, name, index, null, null, dataType);
  }

  @Override
  public boolean hasLayer() {
    return false;
  }

  @Override
  public Layer getLayer() {
    return null;
  }

  @Override
  public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
    if (backpropGradientsViewArray != null) {
      throw new IllegalStateException(this + " has no parameters, hence no gradients");
    }
  }

  @Override
  public Pair<INDArray, MaskState> feedForwardMaskArrays(
      INDArray[] maskArrays, MaskState currentMaskState, int minibatchSize) {
    if (maskArrays == null || maskArrays.length == 0) {
      return null;
    }
    return new Pair<>(maskArrays[0], currentMaskState);
  }
}
