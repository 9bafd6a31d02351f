package dev.graft.graph;

import dev.graft.perf.ChannelsLastPasses;
import dev.graft.perf.FloatChunks;
import java.util.Arrays;
import java.util.Collection;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A depthwise convolution of a training network that keeps its pre-activation from the forward pass
 * for the backward pass, as DL4J's {@code ConvolutionLayer} does under a cache mode. DL4J's {@code
 * DepthwiseConvolution2DLayer} ignores the cache mode and runs the forward convolution again in
 * every backward pass: on the MobileNetV2 block row that was 2-3 % of a training step (JFR
 * samples), plus its layout reorders. Without an activation of its own (BatchNorm follows, as in
 * MobileNetV2 and EfficientNet) the output itself is kept, uncopied, as {@link TrainingConvolution}
 * does. Only {@link Rebuild#instantiateForTraining} builds it; model files never name it.
 */
final class TrainingDepthwiseConvolution extends DepthwiseConvolution2D {

  /** A copy of {@code conf} (every field, whatever DL4J's builder set) that trains this way. */
  static TrainingDepthwiseConvolution of(DepthwiseConvolution2D conf) {
    return NhwcConvolution.copyFields(
        conf, new TrainingDepthwiseConvolution(), DepthwiseConvolution2D.class);
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
        new CachingLayer(conf, networkDataType),
        conf,
        trainingListeners,
        layerIndex,
        layerParamsView,
        initializeParams);
  }

  /** Whether {@code layer} is DL4J's own depthwise convolution (not a subclass of it). */
  static boolean isPlain(Layer layer) {
    return layer != null && layer.getClass() == DepthwiseConvolution2D.class;
  }

  /** The running layer: DL4J's, with the pre-activation kept between the two passes. */
  static final class CachingLayer extends DepthwiseConvolution2DLayer {
    /** The pre-activation of the last training forward pass; null when none was kept. */
    private INDArray kept;

    /** How many backward passes took the channels-last path (for tests). */
    private int channelsLastBackward;

    CachingLayer(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    protected Pair<INDArray, INDArray> preOutput(
        boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
      if (forBackprop && kept != null) {
        return new Pair<>(kept, null);
      }
      kept = null; // never a stale one: only the forward pass just run may be reused
      Pair<INDArray, INDArray> out = super.preOutput(training, forBackprop, workspaceMgr);
      if (training
          && !forBackprop
          && cacheMode != null
          && cacheMode != CacheMode.NONE
          && workspaceMgr.hasConfiguration(ArrayType.FF_CACHE)
          && workspaceMgr.isWorkspaceOpen(ArrayType.FF_CACHE)) {
        if (TrainingConvolution.readsOnlyShape(layerConf().getActivationFn())) {
          kept = out.getFirst(); // the output itself: the identity's backward pass reads its shape
        } else {
          try (MemoryWorkspace ws = workspaceMgr.notifyScopeBorrowed(ArrayType.FF_CACHE)) {
            kept = out.getFirst().unsafeDuplication();
          }
        }
      }
      return out;
    }

    /**
     * Channels-last, at stride 1 with the padding that keeps the map's size and one filter per
     * channel (the blocks of MobileNetV2 and EfficientNet, trained channels-last): the gradient at
     * the input is a depthwise forward pass over the errors with each filter turned by 180°, which
     * oneDNN runs on NHWC as it lies, and the weight gradient one Java pass ({@link
     * ChannelsLastPasses#depthwiseWeightGradient}). libnd4j's {@code depthwise_conv2d_bp} reorders
     * the input, the errors and both gradients to a blocked layout and back on every call. Other
     * depthwise convolutions take DL4J's path.
     */
    @Override
    public Pair<Gradient, INDArray> backpropGradient(
        INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(true);
      int[] pad = sizeKeepingPadding();
      if (pad == null || !FloatChunks.dense(input)) {
        return super.backpropGradient(epsilon, workspaceMgr);
      }
      INDArray weights =
          getParamWithNoise(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
      int kh = (int) weights.size(0);
      int kw = (int) weights.size(1);
      INDArray delta =
          layerConf()
              .getActivationFn()
              .backprop(preOutput4d(true, true, workspaceMgr).getFirst(), epsilon)
              .getFirst();
      if (!FloatChunks.dense(delta)) {
        delta = delta.dup('c');
      }
      INDArray turned =
          workspaceMgr.createUninitialized(
              ArrayType.BP_WORKING_MEM, DataType.FLOAT, weights.shape(), 'c');
      float[] w = FloatChunks.values(weights.dup('c'));
      float[] t = new float[w.length];
      int c = (int) weights.size(2);
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          System.arraycopy(w, ((kh - 1 - i) * kw + kw - 1 - j) * c, t, (i * kw + j) * c, c);
        }
      }
      FloatChunks.floats(turned).put(0, t, 0, t.length);
      INDArray gradAtInput =
          workspaceMgr.createUninitialized(
              ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
      Nd4j.exec(
          DynamicCustomOp.builder("depthwise_conv2d")
              .addInputs(delta, turned)
              .addOutputs(gradAtInput)
              // kernel, stride 1, the same padding, no dilation, explicit padding, NHWC
              .addIntegerArguments(kh, kw, 1, 1, pad[0], pad[1], 1, 1, 0, 1)
              .build());
      INDArray weightGradView = gradientViews.get(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
      ChannelsLastPasses.depthwiseWeightGradient(
          input, delta, kh, kw, pad[0], pad[1], weightGradView);
      Gradient gradient = new DefaultGradient();
      if (layerConf().hasBias()) {
        INDArray biasGradView = gradientViews.get(DepthwiseConvolutionParamInitializer.BIAS_KEY);
        biasGradView.assign(delta.sum(0, 1, 2).reshape(biasGradView.shape()));
        gradient.setGradientFor(DepthwiseConvolutionParamInitializer.BIAS_KEY, biasGradView);
      }
      gradient.setGradientFor(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, weightGradView, 'c');
      weightNoiseParams.clear();
      channelsLastBackward++;
      return new Pair<>(gradient, backpropDropOutIfPresent(gradAtInput));
    }

    /**
     * The padding {@code [top, left]} when this layer is an FP32 NHWC depthwise convolution with
     * one filter per channel, stride 1, no dilation, an odd kernel and the padding that keeps the
     * map's size, the same on both sides; else null.
     */
    private int[] sizeKeepingPadding() {
      DepthwiseConvolution2D conf = (DepthwiseConvolution2D) layerConf();
      int[] k = conf.getKernelSize();
      int[] s = conf.getStride();
      int[] d = conf.getDilation();
      if (conf.getCnn2dDataFormat() != CNN2DFormat.NHWC
          || dataType != DataType.FLOAT
          || conf.getDepthMultiplier() != 1
          || s[0] != 1
          || s[1] != 1
          || d[0] != 1
          || d[1] != 1
          || k[0] % 2 == 0
          || k[1] % 2 == 0) {
        return null;
      }
      int[] pad = {(k[0] - 1) / 2, (k[1] - 1) / 2};
      return convolutionMode == ConvolutionMode.Same || Arrays.equals(conf.getPadding(), pad)
          ? pad
          : null;
    }

    /** How many backward passes took the channels-last path (for tests). */
    int channelsLastBackwardCount() {
      return channelsLastBackward;
    }

    /** Whether the last forward pass left a pre-activation for the backward pass (for tests). */
    boolean keptPreActivation() {
      return kept != null;
    }
  }
}
