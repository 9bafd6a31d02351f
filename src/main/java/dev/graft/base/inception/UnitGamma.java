package dev.graft.base.inception;

import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.LayerConstraint;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Keeps a batch normalisation layer's gamma at 1 after every update: DL4J's stand-in for Keras's
 * {@code BatchNormalization(scale=False)}, which has no gamma at all. DL4J has no such switch
 * ({@code lockGammaBeta} would fix beta too, and Keras learns beta), so the gamma exists, starts at
 * 1 and is put back to 1 whenever training moves it; beta, mean and variance are untouched.
 *
 * <pre>{@code
 * new BatchNormalization.Builder().constrainAllParameters(new UnitGamma()).build();
 * }</pre>
 */
public final class UnitGamma implements LayerConstraint {
  private static final long serialVersionUID = 1L;

  private Set<String> params = new HashSet<>();

  /** A constraint for the layer it is given to (DL4J sets the parameter names). */
  public UnitGamma() {}

  @Override
  public void applyConstraint(Layer layer, int iteration, int epoch) {
    INDArray gamma = layer.getParam(BatchNormalizationParamInitializer.GAMMA);
    if (gamma != null) {
      gamma.assign(1.0);
    }
  }

  @Override
  public void setParams(Set<String> params) {
    this.params = params == null ? new HashSet<>() : new HashSet<>(params);
  }

  @Override
  public Set<String> getParams() {
    return params;
  }

  @Override
  public UnitGamma clone() {
    UnitGamma c = new UnitGamma();
    c.setParams(params);
    return c;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UnitGamma u && Objects.equals(params, u.params);
  }

  @Override
  public int hashCode() {
    return Objects.hash(UnitGamma.class, params);
  }

  @Override
  public String toString() {
    return "UnitGamma" + params;
  }
}
