package dev.graft.graph;

import dev.graft.nn.ActivationSwishTanh;
import dev.graft.perf.FloatChunks;
import java.util.Arrays;
import java.util.Collection;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An activation layer of a training network that reads its input where DL4J's copies it first.
 * DL4J's {@code ActivationLayer} duplicates its input in both passes (its activation functions work
 * in place) and then makes one or more passes of its own; the ReLU and ReLU6 of ResNet50 and
 * MobileNetV2 take one pass here each way ({@link FloatChunks#clamp}, {@link
 * FloatChunks#clampGradient}), and EfficientNet's swish keeps {@code tanh(x/2)} from the forward
 * pass, so that its backward pass is one pass too. ReLU's backward pass was 5 % of the ResNet50
 * bottleneck row's training step (JFR samples). Other activations, types and layouts take DL4J's
 * path. Only {@link Rebuild#instantiateForTraining} builds it; model files never name it.
 */
final class TrainingActivationLayer extends ActivationLayer {

  /** A copy of {@code conf} (every field, whatever DL4J's builder set) that trains this way. */
  static TrainingActivationLayer of(ActivationLayer conf) {
    return NhwcConvolution.copyFields(conf, new TrainingActivationLayer(), ActivationLayer.class);
  }

  /** Whether {@code layer} is DL4J's own activation layer (not a subclass of it). */
  static boolean isPlain(Layer layer) {
    return layer != null && layer.getClass() == ActivationLayer.class;
  }

  @Override
  public org.deeplearning4j.nn.api.Layer instantiate(
      NeuralNetConfiguration conf,
      Collection<TrainingListener> trainingListeners,
      int layerIndex,
      INDArray layerParamsView,
      boolean initializeParams,
      DataType networkDataType) {
    return NhwcConvolution.wire(
        new OnePassLayer(conf, networkDataType),
        conf,
        trainingListeners,
        layerIndex,
        layerParamsView,
        initializeParams);
  }

  /** The activations taken here; null for any other. */
  private enum Kind {
    RELU(Float.POSITIVE_INFINITY),
    RELU6(6f),
    SWISH(Float.NaN);

    /** ReLU's clamp is to [0, high] (what {@link FloatChunks#clampGradient} takes); not swish's. */
    final float high;

    Kind(float high) {
      this.high = high;
    }

    static Kind of(IActivation fn) {
      if (fn instanceof ActivationReLU6) { // DL4J's or TrainingReLU6: the same function
        return RELU6;
      }
      if (fn instanceof ActivationSwishTanh) {
        return SWISH;
      }
      if (fn != null
          && fn.getClass() == ActivationReLU.class
          && ((ActivationReLU) fn).getMax() == null
          && zeroOrUnset(((ActivationReLU) fn).getThreshold())
          && zeroOrUnset(((ActivationReLU) fn).getNegativeSlope())) {
        return RELU;
      }
      return null;
    }

    private static boolean zeroOrUnset(Double d) {
      return d == null || d == 0.0;
    }
  }

  /** The running layer: DL4J's, with ReLU, ReLU6 and swish on dense FP32 arrays done here. */
  static final class OnePassLayer extends org.deeplearning4j.nn.layers.ActivationLayer {
    /** How many passes took this path (for tests). */
    private int onePass;

    /** Swish: {@code tanh(x/2)} from the last training forward pass; null when not kept. */
    private INDArray keptTanh;

    /** Where {@link #keptTanh} is written, reused from step to step. */
    private INDArray tanhBuffer;

    /** How many backward passes reused the forward pass's tanh (for tests). */
    private int reusedTanh;

    OnePassLayer(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    /** What this layer computes on {@code in}, or null where DL4J's path runs. */
    private Kind kind(INDArray in) {
      return in != null && layerConf().getIDropout() == null && FloatChunks.dense(in)
          ? Kind.of(layerConf().getActivationFn())
          : null;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      keptTanh = null; // only what the forward pass just run computed may be reused
      Kind kind = kind(input);
      if (kind == null) {
        return super.activate(training, workspaceMgr);
      }
      INDArray out =
          workspaceMgr.createUninitialized(
              ArrayType.ACTIVATIONS, DataType.FLOAT, input.shape(), 'c');
      if (kind == Kind.SWISH) {
        swish(training, out, workspaceMgr);
      } else {
        FloatChunks.clamp(input, out, 0f, kind.high);
      }
      onePass++;
      return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(
        INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(true);
      Kind kind = kind(input);
      if (kind == null || !FloatChunks.dense(epsilon) || epsilon.length() != input.length()) {
        return super.backpropGradient(epsilon, workspaceMgr);
      }
      INDArray out =
          workspaceMgr.createUninitialized(
              ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
      if (kind == Kind.SWISH && keptTanh != null && keptTanh.length() == input.length()) {
        ActivationSwishTanh.gradientFromTanh(input, 0.5f, keptTanh, epsilon, out);
        reusedTanh++;
      } else if (kind == Kind.SWISH) {
        INDArray half =
            workspaceMgr.createUninitialized(
                ArrayType.BP_WORKING_MEM, DataType.FLOAT, input.shape(), 'c');
        input.mul(0.5, half);
        ActivationSwishTanh.gradientOfHalf(half, epsilon, out);
      } else {
        FloatChunks.clampGradient(input, epsilon, out, kind.high);
      }
      onePass++;
      return new Pair<>(new DefaultGradient(), out);
    }

    /**
     * Swish of the input into {@code out}: {@code h = x/2}, oneDNN's {@code t = tanh(h)}, then
     * {@code h + h·t} in one pass. In training, under a cache mode, {@code t} is kept for the
     * backward pass, which is then one pass over the input, {@code t} and ε (it took the halving,
     * oneDNN's tanh and a pass of its own).
     */
    private void swish(boolean training, INDArray out, LayerWorkspaceMgr workspaceMgr) {
      boolean keep = training && cacheMode != null && cacheMode != CacheMode.NONE;
      INDArray half =
          workspaceMgr.createUninitialized(
              ArrayType.FF_WORKING_MEM, DataType.FLOAT, input.shape(), 'c');
      INDArray tanh = out;
      if (keep) {
        // one buffer for the layer's life, outside DL4J's workspaces: a new one in the cache
        // workspace at each step cost more than the backward pass saved (timed on the
        // EfficientNetB0 block)
        if (tanhBuffer == null || !Arrays.equals(tanhBuffer.shape(), input.shape())) {
          try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            tanhBuffer = Nd4j.createUninitialized(DataType.FLOAT, input.shape(), 'c');
          }
        }
        tanh = tanhBuffer;
      }
      input.mul(0.5, half);
      Nd4j.exec(DynamicCustomOp.builder("tanh").addInputs(half).addOutputs(tanh).build());
      ActivationSwishTanh.fromTanh(half, tanh, out);
      keptTanh = keep ? tanh : null;
    }

    /** How many forward and backward passes ran here (for tests). */
    int onePassCount() {
      return onePass;
    }

    /** How many backward passes reused the forward pass's tanh (for tests). */
    int reusedTanhCount() {
      return reusedTanh;
    }
  }
}
