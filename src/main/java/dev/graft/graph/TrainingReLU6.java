package dev.graft.graph;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ReLU6 (MobileNetV2's activation) for networks that train: DL4J's forward pass, and a backward
 * pass {@code ε·(step(x) − step(x − 6))} from three vectorised passes, where libnd4j's {@code
 * Relu6Derivative} calls a {@code std::function} per element: that op alone took 10 % of a
 * MobileNetV2 block's training step (one thread, {@code perf}). Only in the transient networks
 * {@link Rebuild#instantiateForTraining} builds; never written to a model file. (At exactly 6 the
 * slope counts as 1 here and 0 in libnd4j: a set of measure zero.)
 */
final class TrainingReLU6 extends ActivationReLU6 {
  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    assertShape(in, epsilon);
    INDArray open = Nd4j.getExecutioner().exec(new Step(in, in.ulike(), 0.0));
    // in is DL4J's scratch copy of the pre-activation, free to overwrite
    INDArray saturated = Nd4j.getExecutioner().exec(new Step(in, in, 6.0));
    return new Pair<>(open.subi(saturated).muli(epsilon), null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainingReLU6;
  }

  @Override
  public int hashCode() {
    return TrainingReLU6.class.hashCode();
  }
}
