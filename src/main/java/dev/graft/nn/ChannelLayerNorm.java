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
 * Layer normalisation over the channels of each position: for {@code x} of shape {@code [N, C, H,
 * W]} (or {@code [N, C]}), {@code y[n, :, h, w] = gamma * (x[n, :, h, w] - mean) / sqrt(var + eps)
 * + beta}, with the mean and the biased variance taken over the C channels. This is PyTorch's
 * {@code nn.LayerNorm(C)} applied channels-last, as ConvNeXt does inside its blocks, and
 * torchvision's {@code LayerNorm2d} (stem, downsampling, head). Parameters {@code gamma} and {@code
 * beta}, {@code [1, C]}, start at 1 and 0.
 *
 * <pre>{@code
 * graph.addLayer("features_0_1", new ChannelLayerNorm.Builder().eps(1e-6).build(), "features_0_0");
 * }</pre>
 */
public class ChannelLayerNorm extends ChannelParamLayer {
  private static final long serialVersionUID = 1L;

  /** The scale parameter. */
  public static final String GAMMA = "gamma";

  /** The shift parameter. */
  public static final String BETA = "beta";

  private double eps = 1e-6;

  /** For Jackson. */
  public ChannelLayerNorm() {}

  private ChannelLayerNorm(Builder b) {
    super(b);
    this.eps = b.eps;
  }

  /** The epsilon added to the variance. */
  public double getEps() {
    return eps;
  }

  @Override
  public List<String> paramKeys() {
    return List.of(GAMMA, BETA);
  }

  @Override
  public double initialValue(String key) {
    return GAMMA.equals(key) ? 1.0 : 0.0;
  }

  @Override
  public Layer instantiate(
      NeuralNetConfiguration conf,
      Collection<TrainingListener> listeners,
      int layerIndex,
      INDArray layerParamsView,
      boolean initializeParams,
      DataType dataType) {
    ChannelLayerNormLayer l = new ChannelLayerNormLayer(conf, dataType);
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
    return o instanceof ChannelLayerNorm c && super.equals(o) && c.eps == eps;
  }

  @Override
  public int hashCode() {
    return 31 * super.hashCode() + Double.hashCode(eps);
  }

  @Override
  public String toString() {
    return "ChannelLayerNorm(" + getLayerName() + ", C=" + getNIn() + ", eps=" + eps + ")";
  }

  /** Builds a {@link ChannelLayerNorm}; the channel count comes from the input type. */
  public static class Builder extends FeedForwardLayer.Builder<Builder> {
    private double eps = 1e-6;

    /** The epsilon added to the variance (PyTorch's default is 1e-5; ConvNeXt uses 1e-6). */
    public Builder eps(double eps) {
      this.eps = eps;
      return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public ChannelLayerNorm build() {
      return new ChannelLayerNorm(this);
    }
  }
}
