package dev.graft.graph;

import dev.graft.nn.ChannelMultiplyVertex;
import dev.graft.nn.SumActivationVertex;
import dev.graft.perf.NativeTuning;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

/**
 * The training network's activations channels-last (NHWC) where every convolution in it is
 * pointwise or depthwise (the last blocks and top of MobileNetV2 and EfficientNet). A pointwise
 * convolution is then a GEMM of the {@code [n·h·w, c]} rows in both passes ({@link
 * TrainingConvolution}), a depthwise one runs on oneDNN's NHWC kernel as its data lie ({@link
 * TrainingDepthwiseConvolution}), and BatchNorm, pooling and squeeze-and-excitation run as Java
 * passes over rows of channels. On NCHW each oneDNN call reordered its activations and weights to
 * and from the layouts its kernels use, about 50 reorders per step on the EfficientNetB0 block;
 * channels-last that block's training step takes about 0.75× the time (docs/performance.md). A
 * {@link LayoutVertex} converts at the region's borders (the network's input, once for all its
 * readers; anything that stays NCHW), and a global pooling reads a view, as in the inference
 * rewrite.
 */
final class TrainingLayout {
  /**
   * Whether {@link Rebuild#instantiateForTraining} runs eligible training networks channels-last:
   * system property {@value}, default true; only where the oneDNN build is loaded.
   */
  static final String PROPERTY = "graft.training.nhwc";

  private TrainingLayout() {}

  /**
   * Rewrites {@code conf} (a training network's, after {@link TrainingConvolution} and {@link
   * TrainingDepthwiseConvolution} took their places) to NHWC in place, if every convolution in it
   * is pointwise or depthwise.
   *
   * @return whether it did
   */
  static boolean toNhwc(ComputationGraphConfiguration conf) {
    if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))
        || !NativeTuning.oneDnnAvailable()) {
      return false;
    }
    Map<String, GraphVertex> vertices = conf.getVertices();
    Map<String, List<String>> inputs = conf.getVertexInputs();
    Set<String> nhwc = new HashSet<>();
    List<String> networkInputs = conf.getNetworkInputs();
    for (String v : Topology.order(conf)) {
      GraphVertex gv = vertices.get(v);
      List<String> in = inputs.getOrDefault(v, List.of());
      boolean fromNhwc = !in.isEmpty() && nhwc.containsAll(in);
      Layer layer =
          gv instanceof LayerVertex lv && lv.getPreProcessor() == null
              ? lv.getLayerConf().getLayer()
              : null;
      if (layer instanceof ConvolutionLayer c && c.getCnn2dDataFormat() == CNN2DFormat.NCHW) {
        if (layer instanceof TrainingConvolution t
            && TrainingConvolution.isChannelsLastPointwise(t)) {
          nhwc.add(v);
        } else if (layer instanceof TrainingDepthwiseConvolution) {
          if (fromNhwc) {
            nhwc.add(v);
          }
        } else {
          return false; // a convolution oneDNN would run between reorders anyway
        }
      } else if (gv instanceof LayerVertex lv && convolutionInside(lv)) {
        return false; // a frozen or otherwise wrapped convolution: left as it is
      } else if (fromNhwc
          && (batchNormalization(layer) != null || layer instanceof ActivationLayer)) {
        nhwc.add(v);
      } else if ((gv instanceof ElementWiseVertex || gv instanceof SumActivationVertex)
          && in.stream().anyMatch(nhwc::contains)
          && in.stream().allMatch(u -> nhwc.contains(u) || networkInputs.contains(u))) {
        // a residual add of the block's input: that input is converted once, for both readers
        nhwc.add(v);
      } else if (gv instanceof ChannelMultiplyVertex m
          && m.getFormat() == CNN2DFormat.NCHW
          && nhwc.contains(in.get(0))) {
        nhwc.add(v); // its factors, [N, C, 1, 1] or [N, C], read the same in either layout
      }
    }
    if (nhwc.isEmpty()) {
      return false;
    }
    for (String v : nhwc) {
      GraphVertex gv = vertices.get(v);
      if (gv instanceof ChannelMultiplyVertex) {
        vertices.put(v, new ChannelMultiplyVertex(CNN2DFormat.NHWC));
      } else if (gv instanceof LayerVertex lv) {
        Layer layer = lv.getLayerConf().getLayer();
        if (layer instanceof ConvolutionLayer c) {
          c.setCnn2dDataFormat(CNN2DFormat.NHWC);
        } else if (batchNormalization(layer) != null) {
          batchNormalization(layer).setCnn2DFormat(CNN2DFormat.NHWC);
        }
      }
    }
    InferenceGraphs.convertAtBorders(conf, nhwc, new HashMap<>());
    return true;
  }

  /** The BatchNorm configuration of {@code layer}, bare or in inference mode; else null. */
  private static BatchNormalization batchNormalization(Layer layer) {
    if (layer instanceof BatchNormalization b) {
      return b;
    }
    if (layer instanceof InferenceBatchNorm i
        && i.getUnderlying() instanceof BatchNormalization b) {
      return b;
    }
    return null;
  }

  /** Whether a wrapper layer of {@code vertex} (a frozen one) holds a convolution. */
  private static boolean convolutionInside(LayerVertex vertex) {
    Layer layer = vertex.getLayerConf().getLayer();
    return Layers.unwrap(layer) != layer && Layers.unwrap(layer) instanceof ConvolutionLayer;
  }
}
