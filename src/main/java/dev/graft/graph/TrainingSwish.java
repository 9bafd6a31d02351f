package dev.graft.graph;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Swish ({@code x·σ(x)}, EfficientNet's activation) for networks that train: the same forward pass
 * as DL4J's {@link ActivationSwish}, and a backward pass {@code σ(1 + x(1 − σ))} built from one
 * sigmoid and five element-wise passes, where libnd4j's {@code SwishDerivative} evaluates {@code
 * exp} twice and {@code pow} once per element in scalar code: that op alone took 16 % of an
 * EfficientNetB0 block's training step (one thread, {@code perf}). Used only in the transient
 * networks {@link Rebuild#instantiateForTraining} builds; never written to a model file.
 */
final class TrainingSwish extends ActivationSwish {
  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    assertShape(in, epsilon);
    INDArray sigma = Transforms.sigmoid(in, true);
    // σ(1 + x(1 − σ)); in is DL4J's scratch copy of the pre-activation, free to overwrite
    INDArray dLdz = sigma.rsub(1.0).muli(in).addi(1.0).muli(sigma);
    return new Pair<>(dLdz.muli(epsilon), null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainingSwish;
  }

  @Override
  public int hashCode() {
    return TrainingSwish.class.hashCode();
  }
}
