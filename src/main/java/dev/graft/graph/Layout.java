package dev.graft.graph;

import dev.graft.nn.ParameterFreeVertex;
import dev.graft.perf.FloatChunks;
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
  private boolean dropGradients;

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

  /**
   * Makes this conversion take no gradient, as a {@link NoGradientInput} does: it converts a
   * network input of a training network, whose gradient nothing reads.
   */
  void dropGradients() {
    dropGradients = true;
  }

  /** Whether {@link #dropGradients} was called. */
  boolean dropsGradients() {
    return dropGradients;
  }

  @Override
  public void setEpsilon(INDArray epsilon) {
    if (!dropGradients) {
      super.setEpsilon(epsilon);
    }
  }

  @Override
  public INDArray getEpsilon() {
    return dropGradients ? null : super.getEpsilon();
  }

  @Override
  public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
    if (dropGradients) {
      return new Pair<>(null, new INDArray[] {null});
    }
    if (!canDoBackward()) {
      throw new IllegalStateException("LayoutVertex '" + vertexName + "': errors not set");
    }
    CNN2DFormat back = to == CNN2DFormat.NHWC ? CNN2DFormat.NCHW : CNN2DFormat.NHWC;
    INDArray permuted = permute(epsilon, back);
    // errors a layer wrote in this vertex's input layout (OnePassGlobalPooling does) need no copy
    INDArray e =
        FloatChunks.dense(permuted)
            ? workspaceMgr.leverageTo(
                ArrayType.ACTIVATION_GRAD, permuted.reshape('c', permuted.shape()))
            : workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, permuted, 'c');
    return new Pair<>(null, new INDArray[] {e});
  }

  @Override
  public String toString() {
    return "LayoutVertex(name=\"" + vertexName + "\", to=" + to + ")";
  }
}
