package dev.graft.graph;

import java.util.Collection;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A plain convolution of a training network that does not copy its pre-activation when it has no
 * activation of its own (a convolution followed by BatchNorm, as in every base Graft ships). Under
 * a cache mode DL4J's {@code ConvolutionLayer} copies the pre-activation of each training forward
 * pass for the backward pass, in case a later layer overwrites the output; the identity's backward
 * pass reads only its shape, so the output itself serves. That copy was the size of the output, in
 * every step: 8.6 MB on the EfficientNetB0 block row, 9.6 MB on the ResNet50 bottleneck. Only
 * {@link Rebuild#instantiateForTraining} builds it; model files never name it.
 */
final class TrainingConvolution extends ConvolutionLayer {

  /** A copy of {@code conf} (every field, whatever DL4J's builder set) that trains this way. */
  static TrainingConvolution of(ConvolutionLayer conf) {
    return NhwcConvolution.copyFields(conf, new TrainingConvolution(), ConvolutionLayer.class);
  }

  /** Whether {@code layer} is DL4J's own convolution (not a subclass of it). */
  static boolean isPlain(Layer layer) {
    return layer != null && layer.getClass() == ConvolutionLayer.class;
  }

  /**
   * Whether the backward pass of {@code activation} reads nothing of the pre-activation but its
   * shape, so that the layer's output can stand in for it.
   */
  static boolean readsOnlyShape(IActivation activation) {
    return activation != null && activation.getClass() == ActivationIdentity.class;
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
        new Runtime(conf, networkDataType),
        conf,
        trainingListeners,
        layerIndex,
        layerParamsView,
        initializeParams);
  }

  /** The running layer: DL4J's, keeping its output as the pre-activation where that is exact. */
  static final class Runtime extends org.deeplearning4j.nn.layers.convolution.ConvolutionLayer {
    private boolean outputKept;

    Runtime(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      outputKept = false;
      if (!training
          || getHelper() == null // DL4J's own path caches its columns with the pre-activation
          || cacheMode == null
          || cacheMode == CacheMode.NONE
          || !readsOnlyShape(layerConf().getActivationFn())) {
        return super.activate(training, workspaceMgr);
      }
      CacheMode mode = cacheMode;
      cacheMode = CacheMode.NONE; // DL4J's copy of the pre-activation
      try {
        INDArray out = super.activate(true, workspaceMgr);
        preOutput = out; // what the backward pass takes instead of running the convolution again
        outputKept = true;
        return out;
      } finally {
        cacheMode = mode;
      }
    }

    /** Whether the last forward pass kept its output for the backward pass (for tests). */
    boolean keptOutput() {
      return outputKept;
    }

    /**
     * The training helper of a channels-last pointwise convolution (see {@link
     * #isChannelsLastPointwise}), else null: DL4J's own code runs it.
     */
    private TrainingConvolutionHelper channelsLastHelper() {
      return layerConf().getCnn2dDataFormat() == CNN2DFormat.NHWC
              && isChannelsLastPointwise(layerConf())
              && getHelper() instanceof TrainingConvolutionHelper h
          ? h
          : null;
    }

    /**
     * DL4J runs an NHWC convolution as an NCHW one between two permuted copies; a pointwise one
     * here is a GEMM of the {@code [n·h·w, c]} rows as they lie.
     */
    @Override
    protected Pair<INDArray, INDArray> preOutput(
        boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
      TrainingConvolutionHelper h = channelsLastHelper();
      if (h == null) {
        return super.preOutput(training, forBackprop, workspaceMgr);
      }
      if (forBackprop && preOutput != null) {
        return new Pair<>(preOutput, null);
      }
      assertInputSet(false);
      validateInputRank();
      INDArray w =
          getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
      INDArray b =
          hasBias()
              ? getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr)
              : null;
      INDArray x = input.castTo(w.dataType());
      if (x.size(3) != w.size(1)) {
        throw new IllegalStateException(
            "layer '"
                + layerConf().getLayerName()
                + "' expects "
                + w.size(1)
                + " channels last (NHWC), got input "
                + java.util.Arrays.toString(x.shape()));
      }
      return new Pair<>(h.channelsLastForward(x, w, b, workspaceMgr), null);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(
        INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      TrainingConvolutionHelper h = channelsLastHelper();
      if (h == null) {
        return super.backpropGradient(epsilon, workspaceMgr);
      }
      assertInputSet(true);
      INDArray w = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
      INDArray b =
          hasBias()
              ? getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr)
              : null;
      INDArray z = preOutput(true, true, workspaceMgr).getFirst();
      INDArray delta =
          layerConf().getActivationFn().backprop(z, epsilon.castTo(w.dataType())).getFirst();
      Pair<Gradient, INDArray> out =
          h.channelsLastBackward(
              input.castTo(w.dataType()),
              w,
              b,
              delta,
              gradientViews.get(ConvolutionParamInitializer.BIAS_KEY),
              gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY),
              workspaceMgr);
      weightNoiseParams.clear();
      out.setSecond(backpropDropOutIfPresent(out.getSecond()));
      return out;
    }
  }

  /**
   * Whether {@code conf} is a pointwise convolution, which on channels-last activations is one GEMM
   * per pass ({@link #isPointwise}).
   */
  static boolean isChannelsLastPointwise(ConvolutionLayer conf) {
    return isPointwise(
        conf.getKernelSize(),
        conf.getStride(),
        conf.getDilation(),
        conf.getPadding(),
        conf.getConvolutionMode());
  }

  /**
   * Whether a convolution of this geometry is pointwise: a 1×1 kernel at stride 1, no dilation or
   * padding.
   */
  static boolean isPointwise(
      int[] kernel, int[] strides, int[] dilation, int[] pad, ConvolutionMode mode) {
    return kernel[0] == 1
        && kernel[1] == 1
        && strides[0] == 1
        && strides[1] == 1
        && dilation[0] == 1
        && dilation[1] == 1
        && (mode == ConvolutionMode.Same || (pad[0] == 0 && pad[1] == 0));
  }
}
