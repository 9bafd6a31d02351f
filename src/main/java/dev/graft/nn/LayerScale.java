package dev.graft.nn;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Layer scale with stochastic depth, the end of a ConvNeXt (or vision transformer) residual branch:
 * {@code y = x · gamma} per channel ({@code gamma} {@code [1, C]}, learned, starting at {@link
 * Builder#initialValue}), and in training only, each example's whole branch dropped with
 * probability {@code dropPath} and the kept ones scaled by {@code 1 / (1 − dropPath)} (timm's and
 * torchvision's {@code StochasticDepth(mode="row")}). At inference it is the scale alone.
 *
 * <pre>{@code
 * graph.addLayer("features_1_0_layer_scale",
 *     new LayerScale.Builder().initialValue(1e-6).dropPath(0.1).build(), "features_1_0_block_5");
 * }</pre>
 */
public class LayerScale extends ChannelParamLayer {
  private static final long serialVersionUID = 1L;

  /** The scale parameter. */
  public static final String GAMMA = "gamma";

  private double initialValue = 1e-6;
  private double dropPath;

  /** For Jackson. */
  public LayerScale() {}

  private LayerScale(Builder b) {
    super(b);
    this.initialValue = b.initialValue;
    this.dropPath = b.dropPath;
  }

  /** The probability that an example's branch is dropped in training. */
  public double getDropPath() {
    return dropPath;
  }

  @Override
  public List<String> paramKeys() {
    return List.of(GAMMA);
  }

  @Override
  public double initialValue(String key) {
    return initialValue;
  }

  @Override
  public Layer instantiate(
      NeuralNetConfiguration conf,
      Collection<TrainingListener> listeners,
      int layerIndex,
      INDArray layerParamsView,
      boolean initializeParams,
      DataType dataType) {
    LayerScaleLayer l = new LayerScaleLayer(conf, dataType);
    l.setListeners(listeners);
    l.setIndex(layerIndex);
    l.setParamsViewArray(layerParamsView);
    Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
    l.setParamTable(params);
    l.setConf(conf);
    return l;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LayerScale s
        && super.equals(o)
        && s.initialValue == initialValue
        && s.dropPath == dropPath;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * super.hashCode() + Double.hashCode(initialValue)) + Double.hashCode(dropPath);
  }

  @Override
  public String toString() {
    return "LayerScale(" + getLayerName() + ", C=" + getNIn() + ", dropPath=" + dropPath + ")";
  }

  /** Builds a {@link LayerScale}; the channel count comes from the input type. */
  public static class Builder extends FeedForwardLayer.Builder<Builder> {
    private double initialValue = 1e-6;
    private double dropPath;

    /** The initial scale (ConvNeXt: 1e-6). */
    public Builder initialValue(double v) {
      this.initialValue = v;
      return this;
    }

    /**
     * The probability of dropping an example's branch in training, in [0, 1).
     *
     * @throws IllegalArgumentException outside [0, 1)
     */
    public Builder dropPath(double p) {
      if (!(p >= 0 && p < 1)) {
        throw new IllegalArgumentException("dropPath must be in [0, 1), got " + p);
      }
      this.dropPath = p;
      return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public LayerScale build() {
      return new LayerScale(this);
    }
  }
}
