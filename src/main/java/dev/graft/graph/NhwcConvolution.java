package dev.graft.graph;

import dev.graft.error.GraftException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A plain convolution that runs on NHWC activations in inference without copying them: DL4J's own
 * {@code ConvolutionLayer} permutes and copies every NHWC input to NCHW before its oneDNN helper,
 * which then reads the original anyway. Its forward pass calls libnd4j's {@code conv2d} directly
 * with the NHWC layout, so oneDNN reads and writes the activations as they are (oneDNN picks NHWC
 * for the convolutions of MobileNetV2 and EfficientNet, and from NCHW it reorders input and output
 * around every call). Training and backpropagation take DL4J's own path. Same parameters, same
 * parameter layout and same configuration fields as the {@link ConvolutionLayer} it is made from.
 *
 * <pre>{@code
 * NhwcConvolution fast = NhwcConvolution.of(conv);   // conv: a ConvolutionLayer configuration
 * }</pre>
 */
public final class NhwcConvolution extends ConvolutionLayer {
  private static final long serialVersionUID = 1L;
  private int[] inputPadding;

  /** For JSON deserialisation only. */
  public NhwcConvolution() {}

  /**
   * A copy of {@code source} (every configuration field) whose activations are NHWC.
   *
   * @param source a plain convolution (not a subclass such as a depthwise one)
   * @return the NHWC convolution
   */
  public static NhwcConvolution of(ConvolutionLayer source) {
    if (source.getClass() != ConvolutionLayer.class) {
      throw new GraftException(
          "NhwcConvolution replaces plain convolutions only, not " + source.getClass().getName());
    }
    NhwcConvolution c = copyFields(source, new NhwcConvolution(), ConvolutionLayer.class);
    c.setCnn2dDataFormat(CNN2DFormat.NHWC);
    return c;
  }

  /**
   * Copies every field {@code top} and its superclasses declare (DL4J's configuration classes, such
   * as ConvolutionLayer, FeedForwardLayer, BaseLayer, Layer) from a clone of {@code source} to
   * {@code target}.
   */
  static <T extends org.deeplearning4j.nn.conf.layers.Layer> T copyFields(
      org.deeplearning4j.nn.conf.layers.Layer source, T target, Class<?> top) {
    org.deeplearning4j.nn.conf.layers.Layer s = source.clone();
    for (Class<?> k = top; k != Object.class; k = k.getSuperclass()) {
      for (Field f : k.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        try {
          f.setAccessible(true);
          f.set(target, f.get(s));
        } catch (IllegalAccessException | RuntimeException e) {
          throw new GraftException(
              "cannot copy the convolution setting '" + f.getName() + "': " + e.getMessage(), e);
        }
      }
    }
    return target;
  }

  /**
   * The padding {@code [top, bottom, left, right]} of a {@code ZeroPaddingLayer} folded into this
   * convolution (see {@link NhwcGeometry}), or null.
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
        && o instanceof NhwcConvolution n
        && Arrays.equals(inputPadding, n.inputPadding);
  }

  @Override
  public int hashCode() {
    return 31 * super.hashCode() + Arrays.hashCode(inputPadding);
  }

  @Override
  public NhwcConvolution clone() {
    NhwcConvolution c = (NhwcConvolution) super.clone();
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
    return wire(
        new NhwcConvolutionLayer(conf, networkDataType),
        conf,
        trainingListeners,
        layerIndex,
        layerParamsView,
        initializeParams);
  }

  /**
   * What DL4J's {@code instantiate} does with a new runtime layer: the NHWC convolutions' and the
   * training path's own layers ({@code TrainingDepthwiseConvolution}, {@code OnePassGlobalPooling},
   * {@code TrainingActivationLayer}).
   */
  static Layer wire(
      Layer layer,
      NeuralNetConfiguration conf,
      Collection<TrainingListener> trainingListeners,
      int layerIndex,
      INDArray layerParamsView,
      boolean initializeParams) {
    layer.setListeners(trainingListeners);
    layer.setIndex(layerIndex);
    layer.setParamsViewArray(layerParamsView);
    layer.setParamTable(
        conf.getLayer().initializer().init(conf, layerParamsView, initializeParams));
    layer.setConf(conf);
    return layer;
  }
}
