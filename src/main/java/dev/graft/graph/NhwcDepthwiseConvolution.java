package dev.graft.graph;

import dev.graft.error.GraftException;
import java.util.Arrays;
import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A depthwise convolution on NHWC activations for inference graphs, as {@link NhwcConvolution} is
 * for plain ones: it can carry a folded {@code ZeroPaddingLayer}'s padding (see {@link
 * NhwcGeometry}), and with {@link dev.graft.nn.ActivationSwishTanh} it starts from a halved
 * convolution. Same parameters, parameter layout and configuration fields as the {@link
 * DepthwiseConvolution2D} it is made from; training takes DL4J's path.
 *
 * <pre>{@code
 * NhwcDepthwiseConvolution fast = NhwcDepthwiseConvolution.of(depthwise);
 * }</pre>
 */
public final class NhwcDepthwiseConvolution extends DepthwiseConvolution2D {
  private static final long serialVersionUID = 1L;
  private int[] inputPadding;

  /** For JSON deserialisation only. */
  public NhwcDepthwiseConvolution() {}

  /**
   * A copy of {@code source} (every configuration field) whose activations are NHWC.
   *
   * @param source a depthwise convolution (not a subclass)
   * @return the NHWC depthwise convolution
   */
  public static NhwcDepthwiseConvolution of(DepthwiseConvolution2D source) {
    if (source.getClass() != DepthwiseConvolution2D.class) {
      throw new GraftException(
          "NhwcDepthwiseConvolution replaces DL4J's depthwise convolutions only, not "
              + source.getClass().getName());
    }
    NhwcDepthwiseConvolution c =
        NhwcConvolution.copyFields(
            source, new NhwcDepthwiseConvolution(), DepthwiseConvolution2D.class);
    c.setCnn2dDataFormat(CNN2DFormat.NHWC);
    return c;
  }

  /**
   * The padding {@code [top, bottom, left, right]} of a folded {@code ZeroPaddingLayer}, or null.
   *
   * @return the padding, or null
   */
  public int[] getInputPadding() {
    return inputPadding == null ? null : inputPadding.clone();
  }

  /**
   * Sets the padding of a folded {@code ZeroPaddingLayer}; the convolution must then be in truncate
   * mode without padding of its own.
   *
   * @param inputPadding {@code [top, bottom, left, right]}, or null
   */
  public void setInputPadding(int[] inputPadding) {
    this.inputPadding = inputPadding == null ? null : inputPadding.clone();
  }

  /** The output type of the padded input, as the padding layer and this convolution computed it. */
  @Override
  public InputType getOutputType(int layerIndex, InputType inputType) {
    return super.getOutputType(layerIndex, NhwcGeometry.padded(inputType, inputPadding));
  }

  @Override
  public boolean equals(Object o) {
    return super.equals(o)
        && o instanceof NhwcDepthwiseConvolution n
        && Arrays.equals(inputPadding, n.inputPadding);
  }

  @Override
  public int hashCode() {
    return 31 * super.hashCode() + Arrays.hashCode(inputPadding);
  }

  @Override
  public NhwcDepthwiseConvolution clone() {
    NhwcDepthwiseConvolution c = (NhwcDepthwiseConvolution) super.clone();
    c.setInputPadding(inputPadding);
    return c;
  }

  @Override
  public Layer instantiate(
      NeuralNetConfiguration conf,
      Collection<TrainingListener> trainingListeners,
      int layerIndex,
      INDArray layerParamsView,
      boolean initializeParams,
      DataType networkDataType) {
    return NhwcConvolution.wire(
        new NhwcDepthwiseConvolutionLayer(conf, networkDataType),
        conf,
        trainingListeners,
        layerIndex,
        layerParamsView,
        initializeParams);
  }
}
