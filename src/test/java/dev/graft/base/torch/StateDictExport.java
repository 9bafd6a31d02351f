package dev.graft.base.torch;

import dev.graft.io.SafetensorsWriter;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a graph's parameters as the state dict a mapping reads, under its canonical names and in
 * PyTorch's layouts (the inverse of each {@link TensorConversion} constant): real files for tests
 * of the loading path at full size, where no PyTorch fixture is committed.
 */
public final class StateDictExport {
  private StateDictExport() {}

  /** A writer holding {@code graph}'s parameters as {@code mapping}'s canonical state dict. */
  public static SafetensorsWriter of(ComputationGraph graph, StateDictMapping mapping) {
    SafetensorsWriter w = new SafetensorsWriter();
    for (StateDictMapping.Target t : mapping.targets()) {
      if (graph.getVertex(t.vertex()) == null) {
        continue;
      }
      INDArray p = graph.getLayer(t.vertex()).getParam(t.param());
      INDArray torch;
      if (t.conversion() == TensorConversion.TRANSPOSE) {
        torch = p.transpose();
      } else if (t.conversion() == TensorConversion.DEPTHWISE) {
        torch = p.permute(2, 3, 0, 1);
      } else if (t.conversion() == TensorConversion.LINEAR_AS_1X1) {
        torch = p.reshape(p.size(0), p.size(1));
      } else {
        torch = p.rank() == 2 && p.size(0) == 1 ? p.reshape(p.length()) : p;
      }
      w.add(t.name(), torch);
    }
    return w;
  }
}
