package dev.graft.graph;

import dev.graft.perf.ChannelsLastPasses;
import dev.graft.perf.FloatChunks;
import java.util.Arrays;
import java.util.Collection;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Global average pooling whose two passes are one pass each over the feature map ({@link
 * FloatChunks#rowMeans}, {@link FloatChunks#spreadRows}). DL4J's layer reduces with libnd4j's mean
 * and spreads the gradient with a broadcast copy and a division, two passes over the [N, C, H, W]
 * map whose per-(sample, channel) loops dominate on 7×7 maps: 3-4 % of an EfficientNetB0 block's
 * training step (its squeeze-and-excitation and the head pool both pool). NHWC maps, which
 * channels-last networks (training and inference) hand it as NCHW views, take {@link
 * ChannelsLastPasses}: DL4J's layer reduced over the view's strides, 8 % of an EfficientNetB0
 * forward pass. Masked, non-average or non-FP32 pooling takes DL4J's path. {@link
 * Rebuild#instantiateForTraining} and {@link InferenceGraphs#optimize} build it; model files never
 * name it.
 */
final class OnePassGlobalPooling extends GlobalPoolingLayer {

  /** A copy of {@code conf} (every field, whatever DL4J's builder set) that pools this way. */
  static OnePassGlobalPooling of(GlobalPoolingLayer conf) {
    return NhwcConvolution.copyFields(conf, new OnePassGlobalPooling(), GlobalPoolingLayer.class);
  }

  /** Whether {@code layer} is DL4J's own global pooling (not a subclass of it). */
  static boolean isPlain(Layer layer) {
    return layer != null && layer.getClass() == GlobalPoolingLayer.class;
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

  /** The running layer: DL4J's, with average pooling of dense NCHW maps done in one pass. */
  static final class OnePassLayer extends org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer {
    /** How many passes took the one-pass path (for tests). */
    private int onePass;

    OnePassLayer(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    /**
     * Whether this pooling of {@code in} is average pooling over H and W of a dense NCHW map, or of
     * an NCHW view of a dense NHWC map (a training network run channels-last reads its maps so).
     */
    private boolean takes(INDArray in) {
      int[] dims = layerConf().getPoolingDimensions();
      return in != null
          && maskArray == null
          && in.rank() == 4
          && layerConf().getPoolingType() == PoolingType.AVG
          && (dims == null || Arrays.equals(dims, new int[] {2, 3}))
          && (FloatChunks.dense(in) || channelsLast(in));
    }

    /** Whether {@code in}, {@code [n, c, h, w]}, is a view of a dense {@code [n, h, w, c]} map. */
    private static boolean channelsLast(INDArray in) {
      return in.size(1) > 1 && in.size(2) * in.size(3) > 1 && FloatChunks.dense(nhwc(in));
    }

    private static INDArray nhwc(INDArray nchw) {
      return nchw.permute(0, 2, 3, 1);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      if (!takes(input)) {
        return super.activate(training, workspaceMgr);
      }
      long[] shape =
          layerConf().isCollapseDimensions()
              ? new long[] {input.size(0), input.size(1)}
              : new long[] {input.size(0), input.size(1), 1, 1};
      INDArray out =
          workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, shape, 'c');
      if (FloatChunks.dense(input)) {
        FloatChunks.rowMeans(input, out, input.size(2) * input.size(3));
      } else {
        ChannelsLastPasses.columnMeans(
            nhwc(input), out, input.size(2) * input.size(3), (int) input.size(1));
      }
      onePass++;
      return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(
        INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(true);
      if (!takes(input)
          || !FloatChunks.dense(epsilon)
          || epsilon.length() != input.size(0) * input.size(1)) {
        return super.backpropGradient(epsilon, workspaceMgr);
      }
      long rowLength = input.size(2) * input.size(3);
      onePass++;
      if (FloatChunks.dense(input)) {
        INDArray out =
            workspaceMgr.createUninitialized(
                ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        FloatChunks.spreadRows(epsilon, out, rowLength, rowLength);
        return new Pair<>(new DefaultGradient(), out);
      }
      // channels-last in, channels-last out: the layout conversion before this layer permutes the
      // errors back into a dense map without a copy
      INDArray out =
          workspaceMgr.createUninitialized(
              ArrayType.ACTIVATION_GRAD, DataType.FLOAT, nhwc(input).shape(), 'c');
      ChannelsLastPasses.spreadColumns(epsilon, out, rowLength, (int) input.size(1), rowLength);
      return new Pair<>(new DefaultGradient(), out.permute(0, 3, 1, 2));
    }

    /** How many forward and backward passes ran in one pass (for tests). */
    int onePassCount() {
      return onePass;
    }
  }
}
