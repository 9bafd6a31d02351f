package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LayerNorm over each token's D features, as PyTorch's {@code nn.LayerNorm(D, eps)}: {@code (x −
 * mean) / sqrt(var + eps) · gamma + beta}, the variance biased. Parameters {@code gamma}, {@code
 * beta}, each [1, D].
 */
public final class TokenLayerNorm extends TokenLayer {
  private static final long serialVersionUID = 1L;

  private double epsilon = 1e-6;

  /** For JSON. */
  public TokenLayerNorm() {}

  /**
   * A LayerNorm over tokens of width {@code width} (0: from the input type).
   *
   * @param epsilon added to the variance (1e-6 in ViT and DINOv2)
   */
  public TokenLayerNorm(long width, double epsilon) {
    super(width);
    this.epsilon = epsilon;
  }

  /** The epsilon added to the variance. */
  public double getEpsilon() {
    return epsilon;
  }

  /** For JSON. */
  public void setEpsilon(double epsilon) {
    this.epsilon = epsilon;
  }

  @Override
  protected List<Object> settings() {
    return List.of(epsilon);
  }

  @Override
  public void defineParameters(SDLayerParams params) {
    params.addWeightParam("gamma", 1, width);
    params.addBiasParam("beta", 1, width);
  }

  @Override
  protected void initialize(String name, INDArray param) {
    param.assign(name.equals("gamma") ? 1 : 0);
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    int last = x.getShape().length - 1;
    SDVariable centred = x.sub(x.mean(true, last));
    SDVariable variance = centred.mul(centred).mean(true, last);
    return centred
        .mul(sd.math().rsqrt(variance.add(epsilon)))
        .mul(perToken(p.get("gamma"), width))
        .add(perToken(p.get("beta"), width));
  }
}
