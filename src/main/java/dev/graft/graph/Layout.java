package dev.graft.graph;

import dev.graft.nn.ParameterFreeVertex;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The running form of {@link LayoutVertex}: forward, a permuted copy (or view) in the target
 * layout; backward, the errors permuted back.
 */
final class Layout extends ParameterFreeVertex {
  private final CNN2DFormat to;
  private final boolean view;

  Layout(
      ComputationGraph graph,
      String name,
      int index,
      CNN2DFormat to,
      boolean view,
      DataType dataType) {
    super(graph, name, index, dataType);
    this.to = to;
    this.view = view;
  }

  private static INDArray permute(INDArray x, CNN2DFormat to) {
    if (x.rank() != 4) {
      throw new IllegalStateException(
          "LayoutVertex needs a rank-4 image activation, got "
              + java.util.Arrays.toString(x.shape()));
    }
    return to == CNN2DFormat.NHWC ? x.permute(0, 2, 3, 1) : x.permute(0, 3, 1, 2);
  }

  @Override
  public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoForward()) {
      throw new IllegalStateException("LayoutVertex '" + vertexName + "': input not set");
    }
    INDArray permuted = permute(inputs[0], to);
    return view
        ? workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, permuted)
        : workspaceMgr.dup(ArrayType.ACTIVATIONS, permuted, 'c');
  }

  @Override
  public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoBackward()) {
      throw new IllegalStateException("LayoutVertex '" + vertexName + "': errors not set");
    }
    CNN2DFormat back = to == CNN2DFormat.NHWC ? CNN2DFormat.NCHW : CNN2DFormat.NHWC;
    INDArray e = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, permute(epsilon, back), 'c');
    return new Pair<>(null, new INDArray[] {e});
  }

  @Override
  public String toString() {
    return "LayoutVertex(name=\"" + vertexName + "\", to=" + to + ")";
  }
}
