package untrusted;

import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An activation class outside the allowlist for tests: records every time it is constructed. A
 * configuration naming it must be refused before DL4J's Jackson instantiates it.
 */
public final class RecordingActivation extends BaseActivationFunction {
  /** How many instances were constructed. */
  public static final AtomicInteger CONSTRUCTED = new AtomicInteger();

  public RecordingActivation() {
    CONSTRUCTED.incrementAndGet();
  }

  @Override
  public INDArray getActivation(INDArray in, boolean training) {
    return in;
  }

  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    return new Pair<>(epsilon, null);
  }

  @Override
  public String toString() {
    return "recording";
  }
}
