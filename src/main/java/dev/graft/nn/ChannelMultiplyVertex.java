package dev.graft.nn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Multiplies every channel of an image activation by a per-example, per-channel factor: {@code
 * out[n, c, h, w] = x[n, c, h, w] * s[n, c]}, the "excite" step of squeeze-and-excitation (Keras's
 * {@code layers.multiply([x, se])} with {@code se} of shape {@code [N, 1, 1, C]}).
 *
 * <p>DL4J's {@code ElementWiseVertex} multiplies arrays of equal shape only. This vertex takes two
 * inputs, in this order: the activations {@code [N, C, H, W]} (NCHW) and the factors, either {@code
 * [N, C, 1, 1]} (a 1x1 convolution's output) or {@code [N, C]}. It has no parameters and serialises
 * to JSON by its class name, so a graph holding it saves and reloads with DL4J's {@code
 * ModelSerializer}.
 *
 * <pre>{@code
 * graph.addVertex("block1a_se_excite", new ChannelMultiplyVertex(), "block1a_activation",
 *     "block1a_se_expand");
 * }</pre>
 */
public final class ChannelMultiplyVertex extends ParameterFreeVertexConf {
  private static final long serialVersionUID = 1L;

  private CNN2DFormat format = CNN2DFormat.NCHW;

  /** The vertex for NCHW activations. */
  public ChannelMultiplyVertex() {}

  /**
   * The vertex for activations in {@code format}: NHWC activations {@code [N, H, W, C]} take
   * factors {@code [N, 1, 1, C]} or {@code [N, C]}.
   *
   * @param format the layout of the activations (first input)
   */
  public ChannelMultiplyVertex(CNN2DFormat format) {
    this.format = format;
  }

  /** The layout of the activations; NCHW for graphs saved before it existed. */
  public CNN2DFormat getFormat() {
    return format;
  }

  /** For JSON deserialisation: the layout of the activations. */
  public void setFormat(CNN2DFormat format) {
    this.format = format == null ? CNN2DFormat.NCHW : format;
  }

  @Override
  public ChannelMultiplyVertex clone() {
    return new ChannelMultiplyVertex(format);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChannelMultiplyVertex c && c.format == format;
  }

  @Override
  public int hashCode() {
    return ChannelMultiplyVertex.class.getName().hashCode() * 31 + format.hashCode();
  }

  @Override
  protected int inputCount() {
    return 2;
  }

  @Override
  protected ParameterFreeVertex create(
      ComputationGraph graph, String name, int index, DataType dataType) {
    return new ChannelMultiply(graph, name, index, format, dataType);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType... in) throws InvalidInputTypeException {
    if (in.length != 2) {
      throw new InvalidInputTypeException(
          "ChannelMultiplyVertex takes 2 inputs (activations, factors), got " + in.length);
    }
    if (!(in[0] instanceof InputType.InputTypeConvolutional x)) {
      throw new InvalidInputTypeException(
          "ChannelMultiplyVertex: the first input must be convolutional [N, C, H, W], got "
              + in[0]);
    }
    long factors;
    if (in[1] instanceof InputType.InputTypeConvolutional s) {
      if (s.getHeight() != 1 || s.getWidth() != 1) {
        throw new InvalidInputTypeException(
            "ChannelMultiplyVertex: the factors must be [N, C, 1, 1] or [N, C], got " + in[1]);
      }
      factors = s.getChannels();
    } else if (in[1] instanceof InputType.InputTypeFeedForward f) {
      factors = f.getSize();
    } else {
      throw new InvalidInputTypeException(
          "ChannelMultiplyVertex: the factors must be [N, C, 1, 1] or [N, C], got " + in[1]);
    }
    if (factors != x.getChannels()) {
      throw new InvalidInputTypeException(
          "ChannelMultiplyVertex: "
              + factors
              + " factors for "
              + x.getChannels()
              + " channels ("
              + in[0]
              + ", "
              + in[1]
              + ")");
    }
    return in[0];
  }

  @Override
  public String toString() {
    return "ChannelMultiplyVertex(" + format + ")";
  }
}
