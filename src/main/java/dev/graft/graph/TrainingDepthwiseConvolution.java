package dev.graft.graph;

import java.util.Collection;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

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

    /** Whether the last forward pass left a pre-activation for the backward pass (for tests). */
    boolean keptPreActivation() {
      return kept != null;
    }
  }
}
