package dev.graft.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The running form of {@link ResidualVertex}: forward {@code x + f · m}, backward {@code dx = eps}
 * and {@code df = eps · m}, with {@code m} the per-example scale drawn in the training forward pass
 * (1 everywhere outside training).
 */
final class Residual extends BaseGraphVertex {
  private final double dropRate;
  private INDArray scale; // [N, 1, ...] for the last training pass, or null

  Residual(ComputationGraph graph, String name, int index, DataType dataType, double dropRate) {
    super(graph, name, index, null, null, dataType);
    this.dropRate = dropRate;
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
  public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoForward()) {
      throw new IllegalStateException("ResidualVertex '" + vertexName + "': inputs not set");
    }
    INDArray x = inputs[0];
    INDArray f = inputs[1];
    if (!java.util.Arrays.equals(x.shape(), f.shape())) {
      throw new IllegalStateException(
          "ResidualVertex '"
              + vertexName
              + "': shortcut "
              + java.util.Arrays.toString(x.shape())
              + " and branch "
              + java.util.Arrays.toString(f.shape())
              + " differ");
    }
    INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape());
    scale = null;
    if (training && dropRate > 0) {
      long[] s = new long[x.rank()];
      java.util.Arrays.fill(s, 1);
      s[0] = x.size(0);
      INDArray m = Nd4j.createUninitializedDetached(x.dataType(), s);
      Nd4j.getExecutioner().exec(new BernoulliDistribution(m, 1 - dropRate));
      scale = m.divi(1 - dropRate);
      out.assign(f.mul(scale)).addi(x);
    } else {
      x.add(f, out);
    }
    return out;
  }

  @Override
  public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoBackward()) {
      throw new IllegalStateException("ResidualVertex '" + vertexName + "': errors not set");
    }
    INDArray dx = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon);
    INDArray df = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon);
    if (scale != null) {
      df.muli(scale);
    }
    return new Pair<>(null, new INDArray[] {dx, df});
  }

  @Override
  public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
    if (backpropGradientsViewArray != null) {
      throw new IllegalStateException(
          "ResidualVertex '" + vertexName + "' has no parameters, hence no gradients");
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

  @Override
  public String toString() {
    return "ResidualVertex(name=\"" + vertexName + "\", dropRate=" + dropRate + ")";
  }
}
