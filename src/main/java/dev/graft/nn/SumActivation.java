package dev.graft.nn;

import java.util.Arrays;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The running form of {@link SumActivationVertex}: forward {@code act(a + b)} in two passes (the
 * sum written straight into the output, the function applied in place); backward {@code da = db =
 * act'(a + b) · eps}, the sum computed again from the inputs.
 */
final class SumActivation extends ParameterFreeVertex {
  private final IActivation activation;

  SumActivation(
      ComputationGraph graph, String name, int index, IActivation activation, DataType dataType) {
    super(graph, name, index, dataType);
    this.activation = activation;
  }

  /** {@code a + b} in a new array of {@code type}. */
  private INDArray sum(LayerWorkspaceMgr workspaceMgr, ArrayType type) {
    INDArray a = inputs[0];
    INDArray b = inputs[1];
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalStateException(
          "SumActivationVertex '"
              + vertexName
              + "': inputs "
              + Arrays.toString(a.shape())
              + " and "
              + Arrays.toString(b.shape())
              + " differ");
    }
    INDArray out = workspaceMgr.createUninitialized(type, a.dataType(), a.shape(), 'c');
    return a.add(b.castTo(a.dataType()), out);
  }

  @Override
  public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoForward()) {
      throw new IllegalStateException("SumActivationVertex '" + vertexName + "': inputs not set");
    }
    return activation.getActivation(sum(workspaceMgr, ArrayType.ACTIVATIONS), training);
  }

  @Override
  public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoBackward()) {
      throw new IllegalStateException("SumActivationVertex '" + vertexName + "': errors not set");
    }
    INDArray preActivation = sum(workspaceMgr, ArrayType.ACTIVATION_GRAD);
    INDArray da = activation.backprop(preActivation, epsilon.dup()).getFirst();
    INDArray db = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, da);
    return new Pair<>(null, new INDArray[] {da, db});
  }

  @Override
  public String toString() {
    return "SumActivationVertex(name=\"" + vertexName + "\", " + activation + ")";
  }
}
