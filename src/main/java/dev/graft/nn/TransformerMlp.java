package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * A transformer block's MLP on each token: {@code fc2(GELU(fc1(x)))}, with the exact GELU of
 * PyTorch's {@code nn.GELU()} ({@code x · (1 + erf(x / √2)) / 2}, not the tanh approximation).
 * Parameters {@code fc1W} [D, hidden], {@code fc1B} [1, hidden], {@code fc2W} [hidden, D], {@code
 * fc2B} [1, D].
 */
public final class TransformerMlp extends TokenLayer {
  private static final long serialVersionUID = 1L;

  private long hidden;

  /** For JSON. */
  public TransformerMlp() {}

  /** An MLP over tokens of width {@code width} (0: from the input type), {@code hidden} wide. */
  public TransformerMlp(long width, long hidden) {
    super(width);
    this.hidden = hidden;
  }

  /** The hidden width. */
  public long getHidden() {
    return hidden;
  }

  /** For JSON. */
  public void setHidden(long hidden) {
    this.hidden = hidden;
  }

  @Override
  protected List<Object> settings() {
    return List.of(hidden);
  }

  @Override
  public void defineParameters(SDLayerParams params) {
    params.addWeightParam("fc1W", width, hidden);
    params.addBiasParam("fc1B", 1, hidden);
    params.addWeightParam("fc2W", hidden, width);
    params.addBiasParam("fc2B", 1, width);
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    long t = x.getShape()[1];
    SDVariable h = x.reshape(-1, width).mmul(p.get("fc1W")).add(p.get("fc1B"));
    SDVariable gelu = h.mul(sd.math().erf(h.mul(1.0 / Math.sqrt(2.0))).add(1.0)).mul(0.5);
    return gelu.mmul(p.get("fc2W")).add(p.get("fc2B")).reshape(-1, t, width);
  }
}
