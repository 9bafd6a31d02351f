package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DINOv2's (and CaiT's) layer scale: each token's features multiplied by a learned per-feature
 * factor, {@code x · gamma} ({@code gamma} [1, D], initialised to a small value so that a new block
 * starts close to the identity).
 */
public final class TokenLayerScale extends TokenLayer {
  private static final long serialVersionUID = 1L;

  private double initValue = 1e-5;

  /** For JSON. */
  public TokenLayerScale() {}

  /** A layer scale over tokens of width {@code width} (0: from the input type). */
  public TokenLayerScale(long width, double initValue) {
    super(width);
    this.initValue = initValue;
  }

  /** The initial factor. */
  public double getInitValue() {
    return initValue;
  }

  /** For JSON. */
  public void setInitValue(double initValue) {
    this.initValue = initValue;
  }

  @Override
  protected List<Object> settings() {
    return List.of(initValue);
  }

  @Override
  public void defineParameters(SDLayerParams params) {
    params.addWeightParam("gamma", 1, width);
  }

  @Override
  protected void initialize(String name, INDArray param) {
    param.assign(initValue);
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    return x.mul(perToken(p.get("gamma"), width));
  }
}
