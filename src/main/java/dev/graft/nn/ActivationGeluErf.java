package dev.graft.nn;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * GELU as PyTorch's {@code nn.GELU()} computes it, with the error function: {@code gelu(x) = x ·
 * Φ(x) = x/2 · (1 + erf(x/√2))}, derivative {@code Φ(x) + x · φ(x)}. ND4J's {@code ActivationGELU}
 * offers only approximations (sigmoid, or tanh when "precise"), which differ from PyTorch's by up
 * to about 1e-3 and would break feature parity with ConvNeXt and ViT weights.
 */
public class ActivationGeluErf extends BaseActivationFunction {
  private static final long serialVersionUID = 1L;
  private static final double SQRT_HALF = Math.sqrt(0.5);
  private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

  /** The activation; it has no settings. */
  public ActivationGeluErf() {}

  /** {@code Φ(x) = (1 + erf(x/√2)) / 2}, a new array. */
  private static INDArray cdf(INDArray x) {
    INDArray e = x.mul(SQRT_HALF);
    Nd4j.getExecutioner().exec(new Erf(e, e));
    return e.addi(1).muli(0.5);
  }

  @Override
  public INDArray getActivation(INDArray in, boolean training) {
    return in.muli(cdf(in));
  }

  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    assertShape(in, epsilon);
    INDArray pdf = Transforms.exp(in.mul(in).muli(-0.5), false).muli(INV_SQRT_2PI);
    INDArray d = cdf(in).addi(pdf.muli(in));
    return new Pair<>(d.muli(epsilon), null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActivationGeluErf;
  }

  @Override
  public int hashCode() {
    return ActivationGeluErf.class.hashCode();
  }

  @Override
  public String toString() {
    return "gelu(erf)";
  }
}
