package dev.graft.nn;

import dev.graft.perf.FloatChunks;
import java.nio.FloatBuffer;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Swish (SiLU), {@code x · σ(x)}, computed through tanh: {@code x · σ(x) = h + h · tanh(h)} with
 * {@code h = x/2}. Same function as ND4J's {@link ActivationSwish} (differences around 1e-6 from
 * float rounding); faster on ND4J's oneDNN build, where libnd4j's {@code tanh} op is a vectorised
 * oneDNN primitive while its swish and sigmoid loops call a scalar {@code exp} per element (on a
 * [16, 112, 112, 96] activation: 86 ms of CPU time for swish, 40–48 ms for the passes here).
 * Inference graphs use it in place of {@link ActivationSwish} (EfficientNet's activation); the
 * backward pass is Swish's own.
 */
public class ActivationSwishTanh extends BaseActivationFunction {
  private static final long serialVersionUID = 1L;

  /** The activation; it has no settings. */
  public ActivationSwishTanh() {}

  /**
   * Swish of {@code 2h}, in place: for a layer that computed half its pre-activation (weights and
   * bias halved, exact in floating point), which saves the halving pass.
   *
   * @param h half the pre-activation; overwritten with the activation
   * @return {@code h}
   */
  public static INDArray ofHalf(INDArray h) {
    INDArray t = h.ulike();
    Nd4j.exec(DynamicCustomOp.builder("tanh").addInputs(h).addOutputs(t).build());
    return h.addi(t.muli(h));
  }

  @Override
  public INDArray getActivation(INDArray in, boolean training) {
    return ofHalf(in.muli(0.5));
  }

  /**
   * {@code ε·σ(1 + x(1 − σ))} with {@code σ(x) = (1 + tanh(x/2))/2}: oneDNN's tanh, then one pass
   * in Java ({@link FloatChunks}) over {@code x/2}, the tanh and ε on dense FP32 arrays (five ND4J
   * passes on others), where libnd4j's {@code SwishDerivative} evaluates {@code exp} twice and
   * {@code pow} once per element in scalar code (16 % of an EfficientNetB0 block's training step,
   * one thread, {@code perf}). {@code in} is DL4J's scratch copy of the pre-activation, overwritten
   * here as DL4J's own activations overwrite it.
   */
  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    assertShape(in, epsilon);
    if (FloatChunks.dense(in) && FloatChunks.dense(epsilon)) {
      INDArray half = in.muli(0.5);
      INDArray gradient = half.ulike();
      gradientOfHalf(half, epsilon, gradient);
      return new Pair<>(gradient, null);
    }
    INDArray sigma = in.mul(0.5);
    Nd4j.exec(DynamicCustomOp.builder("tanh").addInputs(sigma).addOutputs(sigma).build());
    sigma.muli(0.5).addi(0.5);
    INDArray dLdz = sigma.rsub(1.0).muli(in).addi(1.0).muli(sigma);
    return new Pair<>(dLdz.muli(epsilon), null);
  }

  /**
   * Swish's backward pass from half the pre-activation: {@code out = ε·σ(x)(1 + x(1 − σ(x)))} with
   * {@code x = 2h}, as oneDNN's tanh into {@code out} and one pass in Java over {@code h}, the tanh
   * and ε. All three arrays dense FP32 of one shape ({@link FloatChunks#dense}).
   *
   * @param half {@code x/2}; read only
   * @param epsilon the gradient at the activation's output; read only
   * @param out the gradient at its input
   */
  public static void gradientOfHalf(INDArray half, INDArray epsilon, INDArray out) {
    requireDense(half, epsilon, out);
    Nd4j.exec(DynamicCustomOp.builder("tanh").addInputs(half).addOutputs(out).build());
    gradientFromTanh(half, 1f, out, epsilon, out);
  }

  /**
   * Swish's backward pass from {@code h = scale·in} and {@code t = tanh(h)}: one pass in Java,
   * {@code out = ε·(1 + t)/2·(1 + h(1 − t))}. All four arrays dense FP32 of one length; {@code out}
   * may be {@code tanh}.
   *
   * @param in the pre-activation ({@code scale} 0.5) or half of it ({@code scale} 1); read only
   * @param scale what turns {@code in} into {@code h}
   * @param tanh {@code tanh(h)}
   * @param epsilon the gradient at the activation's output; read only
   * @param out the gradient at its input
   */
  public static void gradientFromTanh(
      INDArray in, float scale, INDArray tanh, INDArray epsilon, INDArray out) {
    requireDense(in, tanh, epsilon, out);
    // with σ = (1 + t)/2: σ(1 + x(1 − σ)) = (1 + t)/2 · (1 + h(1 − t))
    FloatBuffer hs = FloatChunks.floats(in);
    FloatBuffer ts = FloatChunks.floats(tanh);
    FloatBuffer es = FloatChunks.floats(epsilon);
    FloatBuffer os = FloatChunks.floats(out);
    FloatChunks.parallel(
        out.length(),
        (from, to) -> {
          float[] hc = new float[FloatChunks.CHUNK];
          float[] tc = new float[FloatChunks.CHUNK];
          float[] ec = new float[FloatChunks.CHUNK];
          for (int start = from; start < to; start += FloatChunks.CHUNK) {
            int len = Math.min(FloatChunks.CHUNK, to - start);
            hs.get(start, hc, 0, len);
            ts.get(start, tc, 0, len);
            es.get(start, ec, 0, len);
            for (int i = 0; i < len; i++) {
              float ti = tc[i];
              tc[i] = ec[i] * (0.5f + 0.5f * ti) * (1f + scale * hc[i] * (1f - ti));
            }
            os.put(start, tc, 0, len);
          }
        });
  }

  /**
   * Swish from half the pre-activation and its tanh: one pass in Java, {@code out = h + h·t}. All
   * three arrays dense FP32 of one length; {@code out} may be {@code tanh}.
   *
   * @param half {@code h = x/2}; read only
   * @param tanh {@code tanh(h)}
   * @param out the activation
   */
  public static void fromTanh(INDArray half, INDArray tanh, INDArray out) {
    requireDense(half, tanh, out);
    FloatBuffer hs = FloatChunks.floats(half);
    FloatBuffer ts = FloatChunks.floats(tanh);
    FloatBuffer os = FloatChunks.floats(out);
    FloatChunks.parallel(
        out.length(),
        (from, to) -> {
          float[] hc = new float[FloatChunks.CHUNK];
          float[] tc = new float[FloatChunks.CHUNK];
          for (int start = from; start < to; start += FloatChunks.CHUNK) {
            int len = Math.min(FloatChunks.CHUNK, to - start);
            hs.get(start, hc, 0, len);
            ts.get(start, tc, 0, len);
            for (int i = 0; i < len; i++) {
              tc[i] = hc[i] + hc[i] * tc[i];
            }
            os.put(start, tc, 0, len);
          }
        });
  }

  private static void requireDense(INDArray... arrays) {
    for (INDArray a : arrays) {
      if (!FloatChunks.dense(a) || a.length() != arrays[0].length()) {
        throw new IllegalArgumentException(
            "swish's one-pass forms take dense FP32 arrays of one length, got "
                + a.shapeInfoToString()
                + " beside "
                + arrays[0].shapeInfoToString());
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActivationSwishTanh;
  }

  @Override
  public int hashCode() {
    return ActivationSwishTanh.class.hashCode();
  }

  @Override
  public String toString() {
    return "swish(tanh)";
  }
}
