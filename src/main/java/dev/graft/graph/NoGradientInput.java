package dev.graft.graph;

import java.lang.reflect.Field;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.InputVertex;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A network input of a training network, which takes no gradient: what its consumers send back is
 * dropped, and {@link #getEpsilon()} is always null. DL4J sums the gradients of an input read by
 * several vertices ({@code currentEps.addi(next)}); with this vertex a consumer may send back null
 * instead, which is what lets {@link TrainingConvolutionHelper} skip the input gradient of a
 * convolution that reads the network's input. The training network's inputs are images or cached
 * activations, and nothing reads their gradient.
 */
final class NoGradientInput extends InputVertex {
  private NoGradientInput(ComputationGraph net, InputVertex source) {
    super(
        net,
        source.getVertexName(),
        source.getVertexIndex(),
        source.getOutputVertices(),
        net.getConfiguration().getDataType());
  }

  /**
   * Replaces every input vertex of {@code net} (initialised) with a {@code NoGradientInput}, and
   * makes each layout conversion of such an input drop its gradients too ({@link
   * Layout#dropGradients}).
   *
   * @return by vertex index, whether the vertex now takes no gradient; all false, and {@code net}
   *     unchanged, where this DL4J version's graph cannot be changed so
   */
  static boolean[] install(ComputationGraph net) {
    GraphVertex[] vertices = net.getVertices();
    boolean[] noGradient = new boolean[vertices.length];
    Field byName;
    try {
      byName = ComputationGraph.class.getDeclaredField("verticesMap");
      byName.setAccessible(true);
      @SuppressWarnings("unchecked")
      Map<String, GraphVertex> map = (Map<String, GraphVertex>) byName.get(net);
      for (int i = 0; i < vertices.length; i++) {
        if (vertices[i] instanceof InputVertex in && !(in instanceof NoGradientInput)) {
          NoGradientInput replacement = new NoGradientInput(net, in);
          vertices[i] = replacement;
          map.put(in.getVertexName(), replacement);
        }
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      return noGradient;
    }
    for (int i : net.topologicalSortOrder()) {
      GraphVertex v = vertices[i];
      if (v instanceof NoGradientInput) {
        noGradient[i] = true;
      } else if (v instanceof Layout layout
          && v.getInputVertices() != null
          && java.util.Arrays.stream(v.getInputVertices())
              .allMatch(in -> noGradient[in.getVertexIndex()])) {
        layout.dropGradients();
        noGradient[i] = true;
      }
    }
    return noGradient;
  }

  @Override
  public void setEpsilon(INDArray epsilon) {
    // no gradient is kept: nothing reads it
  }

  @Override
  public INDArray getEpsilon() {
    return null;
  }
}
