package dev.graft.nn;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The shared parts of Graft's vision-transformer layers, which are SameDiff layers (DL4J derives
 * their backward pass; they run as {@code TokenLayerRuntime}, which corrects M2.1's doubled
 * gradient): a sequence of tokens is DL4J's recurrent input type in NWC layout, {@code [N, T, D]}
 * (the layout PyTorch's transformers use, so that weights map without transposing activations).
 * Settings are plain fields, so that DL4J's JSON (model files) stores them.
 */
public abstract class TokenLayer extends SameDiffLayer {
  private static final long serialVersionUID = 1L;

  /** Token width D; set from the input type when 0. */
  protected long width;

  /** For JSON. */
  protected TokenLayer() {}

  /** A layer over tokens of width {@code width} (0: from the input type). */
  protected TokenLayer(long width) {
    this.width = width;
  }

  /** The token width D. */
  public long getWidth() {
    return width;
  }

  /** For JSON. */
  public void setWidth(long width) {
    this.width = width;
  }

  /** The settings that make two layers of this class equal (besides DL4J's own). */
  protected abstract List<Object> settings();

  /** {@code in} as a token sequence [N, T, D], or an error naming this layer. */
  protected InputType.InputTypeRecurrent tokens(InputType in) {
    if (!(in instanceof InputType.InputTypeRecurrent r) || r.getFormat() != RNNFormat.NWC) {
      throw new InvalidInputTypeException(
          getClass().getSimpleName()
              + " '"
              + getLayerName()
              + "' reads tokens [N, T, D] (recurrent, NWC), got "
              + in);
    }
    return r;
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType in) {
    InputType.InputTypeRecurrent r = tokens(in);
    return InputType.recurrent(width, r.getTimeSeriesLength(), RNNFormat.NWC);
  }

  @Override
  public void setNIn(InputType in, boolean override) {
    if (width <= 0 || override) {
      width = tokens(in).getSize();
    }
  }

  /** A mask of the input's rank ([N, 1, 1]): the layers use none, SameDiff wants one. */
  @Override
  public INDArray onesMaskForInput(INDArray input) {
    long[] shape = new long[input.rank()];
    java.util.Arrays.fill(shape, 1);
    shape[0] = input.size(0);
    return Nd4j.ones(input.dataType(), shape);
  }

  /**
   * DL4J's SameDiff layer with M2.1's doubled backward pass corrected ({@code TokenLayerRuntime}).
   */
  @Override
  public org.deeplearning4j.nn.api.Layer instantiate(
      NeuralNetConfiguration conf,
      Collection<TrainingListener> listeners,
      int layerIndex,
      INDArray paramsView,
      boolean initializeParams,
      DataType networkDataType) {
    TokenLayerRuntime layer = new TokenLayerRuntime(conf, networkDataType);
    layer.setIndex(layerIndex);
    layer.setParamsViewArray(paramsView);
    layer.setParamTable(initializer().init(conf, paramsView, initializeParams));
    layer.setConf(conf);
    return layer;
  }

  @Override
  public void initializeParameters(Map<String, INDArray> params) {
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      initialize(e.getKey(), e.getValue());
    }
  }

  /**
   * Sets a parameter's initial value (random init; pretrained weights overwrite it). By default, as
   * timm initialises a linear layer: weights (names ending in W) from a truncated normal with
   * deviation 0.02, biases zero.
   */
  protected void initialize(String name, INDArray param) {
    if (name.endsWith("W")) {
      truncatedNormal(param, 0.02);
    } else {
      param.assign(0);
    }
  }

  /**
   * A [1, D] parameter as [1, 1, D], to combine with tokens [N, T, D]: M2.1's backward passes of
   * broadcasting ops (add_bp, multiply_bp) give wrong gradients when the ranks differ.
   */
  protected static SDVariable perToken(SDVariable p, long width) {
    return p.reshape(1, 1, width);
  }

  /** A truncated normal (at two deviations), timm's initialisation of transformer weights. */
  protected static void truncatedNormal(INDArray a, double std) {
    INDArray r = Nd4j.randn(a.dataType(), a.shape()).muli(std);
    a.assign(
        org.nd4j.linalg.ops.transforms.Transforms.min(
            org.nd4j.linalg.ops.transforms.Transforms.max(r, -2 * std, false), 2 * std, false));
  }

  @Override
  public boolean equals(Object o) {
    return o != null
        && o.getClass() == getClass()
        && super.equals(o)
        && width == ((TokenLayer) o).width
        && settings().equals(((TokenLayer) o).settings());
  }

  @Override
  public int hashCode() {
    return 31 * (31 * super.hashCode() + Long.hashCode(width)) + settings().hashCode();
  }
}
