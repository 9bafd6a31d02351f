package dev.graft.graph;

import dev.graft.nn.ParameterFreeVertex;
import dev.graft.nn.ParameterFreeVertexConf;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Converts an image activation between DL4J's two layouts: {@code [N, C, H, W]} (NCHW) and {@code
 * [N, H, W, C]} (NHWC), into a fresh C-ordered array. {@link InferenceGraphs} puts one where an
 * NHWC part of an inference graph meets the NCHW rest (the network's image input, a layer that runs
 * only in NCHW, a network output), so that callers still see NCHW.
 *
 * <pre>{@code
 * graph.addVertex("input_1_nhwc", new LayoutVertex(CNN2DFormat.NHWC), "input_1");
 * }</pre>
 */
public final class LayoutVertex extends ParameterFreeVertexConf {
  private static final long serialVersionUID = 1L;

  private CNN2DFormat to;
  private boolean view;

  /** For JSON deserialisation only: converts to NCHW. */
  public LayoutVertex() {
    this(CNN2DFormat.NCHW);
  }

  /**
   * A vertex whose output is its input in layout {@code to} (its input is in the other one).
   *
   * @param to the layout of the output
   */
  public LayoutVertex(CNN2DFormat to) {
    this(to, false);
  }

  /**
   * Like {@link #LayoutVertex(CNN2DFormat)}; with {@code view} set the output is a permuted view of
   * the input, not a copy: for consumers that only read their input with any strides (a global
   * pooling), never for one that writes into it.
   *
   * @param to the layout of the output
   * @param view whether the output is a view of the input
   */
  public LayoutVertex(CNN2DFormat to, boolean view) {
    this.to = to;
    this.view = view;
  }

  /** Whether the output is a permuted view of the input instead of a copy. */
  public boolean isView() {
    return view;
  }

  /** For JSON deserialisation: whether the output is a view. */
  public void setView(boolean view) {
    this.view = view;
  }

  /** The layout of the output. */
  public CNN2DFormat getTo() {
    return to;
  }

  /** For JSON deserialisation: the layout of the output. */
  public void setTo(CNN2DFormat to) {
    this.to = to;
  }

  @Override
  public LayoutVertex clone() {
    return new LayoutVertex(to, view);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LayoutVertex l && l.to == to && l.view == view;
  }

  @Override
  public int hashCode() {
    return (LayoutVertex.class.getName().hashCode() * 31 + to.hashCode()) * 31
        + Boolean.hashCode(view);
  }

  @Override
  protected int inputCount() {
    return 1;
  }

  @Override
  protected ParameterFreeVertex create(
      ComputationGraph graph, String name, int index, DataType dataType) {
    return new Layout(graph, name, index, to, view, dataType);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType... in) throws InvalidInputTypeException {
    if (in.length != 1 || !(in[0] instanceof InputType.InputTypeConvolutional c)) {
      throw new InvalidInputTypeException(
          "LayoutVertex takes one convolutional input, got " + java.util.Arrays.toString(in));
    }
    return InputType.convolutional(c.getHeight(), c.getWidth(), c.getChannels(), to);
  }

  @Override
  public String toString() {
    return "LayoutVertex(to=" + to + (view ? ", view" : "") + ")";
  }
}
