package dev.graft.train;

import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Counts correct predictions during training from the forward pass DL4J already does: DL4J does not
 * compute the output layer there, so the probe applies the output layer's weights to its input
 * (arg-max of the logits, before the step's update; dropout not applied).
 */
final class AccuracyProbe extends BaseTrainingListener {
  private final String output;
  private final String outputInput;
  private final int outputInputIndex;
  private INDArray[] inputs;
  private INDArray labels;
  private long correct;
  private long seen;

  AccuracyProbe(ComputationGraph net) {
    var conf = net.getConfiguration();
    this.output = PhaseRunner.outputLayer(net);
    this.outputInput = conf.getVertexInputs().get(output).get(0);
    this.outputInputIndex = conf.getNetworkInputs().indexOf(outputInput);
    if (!(conf.getVertices().get(output) instanceof LayerVertex)) {
      throw new IllegalStateException("the network's output " + output + " is not a layer");
    }
  }

  void reset() {
    correct = 0;
    seen = 0;
  }

  void set(INDArray[] in, INDArray y) {
    inputs = in;
    labels = y;
  }

  double accuracy() {
    return seen == 0 ? Double.NaN : (double) correct / seen;
  }

  @Override
  public void onForwardPass(Model model, Map<String, INDArray> activations) {
    INDArray x = activations.get(outputInput);
    if (x == null && outputInputIndex >= 0) {
      x = inputs[outputInputIndex];
    }
    if (x == null || labels == null) {
      return;
    }
    ComputationGraph g = (ComputationGraph) model;
    var out = g.getLayer(output);
    INDArray w = out.getParam("W");
    INDArray b = out.getParam("b");
    if (x.rank() > 2) {
      x = x.dup('c').reshape('c', x.size(0), x.length() / x.size(0));
    }
    INDArray logits = x.castTo(w.dataType()).mmul(w).addiRowVector(b);
    int[] p = logits.argMax(1).toIntVector();
    int[] y = labels.argMax(1).toIntVector();
    for (int i = 0; i < p.length; i++) {
      if (p[i] == y[i]) {
        correct++;
      }
    }
    seen += p.length;
  }
}
