package dev.graft.graph;

import static dev.graft.graph.Layers.unwrap;

import dev.graft.nn.ActivationSwishTanh;
import dev.graft.perf.NativeTuning;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/**
 * Rebuilding: a new configuration from part of another (a sub-graph between named inputs and
 * outputs) in which some layers train, each with its own updater, and every other layer is frozen
 * the way DL4J needs (see {@link #rebuild}); then instantiated with the source's parameters.
 */
public final class Rebuild {
  private Rebuild() {}

  /**
   * A configuration with the vertices {@code keep} of {@code src}, reading {@code inputs},
   * producing {@code outputs}. Layers in {@code updaters} train with their own clone of that
   * updater (and the weight decay); other layers are frozen: with DL4J's {@code FrozenLayer} when
   * nothing trainable feeds them, otherwise with backprop ({@link InferenceBatchNorm} for
   * BatchNorm, {@code FrozenLayerWithBackprop} for the rest). Parameter-free layers below the
   * trainable part are frozen too, so that dropout there is off.
   */
  public static ComputationGraphConfiguration rebuild(
      ComputationGraphConfiguration src,
      Collection<String> keep,
      List<String> inputs,
      List<String> outputs,
      Map<String, IUpdater> updaters,
      double weightDecay,
      long seed) {
    List<String> order = new ArrayList<>(Topology.order(src));
    order.retainAll(new LinkedHashSet<>(keep));
    Set<String> below = new LinkedHashSet<>(order);
    below.removeAll(Topology.downstream(src, order, updaters.keySet()));

    NeuralNetConfiguration.Builder global =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .dataType(src.getDataType())
            .trainingWorkspaceMode(src.getTrainingWorkspaceMode())
            .inferenceWorkspaceMode(src.getInferenceWorkspaceMode())
            .cacheMode(src.getCacheMode());
    ComputationGraphConfiguration.GraphBuilder gb = global.graphBuilder();
    gb.addInputs(inputs.toArray(String[]::new));
    for (String v : order) {
      GraphVertex gv = src.getVertices().get(v).clone();
      if (gv instanceof LayerVertex lv) {
        NeuralNetConfiguration nnc = lv.getLayerConf();
        Layer l = unwrap(nnc.getLayer());
        Layer configured;
        IUpdater u = updaters.get(v);
        if (u != null) {
          configureTrainable(l, u, weightDecay);
          configured = l;
        } else if (below.contains(v)) {
          configured = new FrozenLayer(l);
        } else if (l.initializer().numParams(l) == 0) {
          configured = l;
        } else if (l instanceof BatchNormalization) {
          configured = new InferenceBatchNorm(l);
        } else {
          configured = new FrozenLayerWithBackprop(l);
        }
        configured.setLayerName(v);
        nnc.setLayer(configured);
      }
      gb.addVertex(v, gv, Topology.inputsOf(src, v).toArray(String[]::new));
    }
    gb.setOutputs(outputs.toArray(String[]::new));
    gb.validateOutputLayerConfig(false);
    return gb.build();
  }

  /** Gives {@code l} its own copy of {@code u} (never a shared instance) and the weight decay. */
  public static void configureTrainable(Layer l, IUpdater u, double weightDecay) {
    if (l instanceof BaseLayer bl) {
      bl.setIUpdater(u.clone());
      bl.setBiasUpdater(null);
      List<Regularization> reg = new ArrayList<>();
      if (weightDecay > 0) {
        reg.add(new WeightDecay(weightDecay, true));
      }
      bl.setRegularization(reg);
      bl.setRegularizationBias(new ArrayList<>());
    }
  }

  /**
   * As {@link #instantiate}, for a network that trains: its convolution, BatchNorm and pooling
   * layers run forward and backward through DL4J's oneDNN layer helpers when the loaded native
   * build has oneDNN ({@link NativeTuning#withLayerHelpers}), instead of DL4J's im2col + gemm. The
   * helpers compute the same gradients (TrainingHelpersTest) at lower cost (docs/performance.md).
   */
  public static ComputationGraph instantiateForTraining(
      ComputationGraphConfiguration conf, ComputationGraph source, long seed) {
    ComputationGraphConfiguration training = conf.clone();
    // keep each convolution's pre-activation from the forward pass: without a cache mode DL4J
    // computes the forward convolution again in backprop (a third of the forward work per step)
    training.setCacheMode(CacheMode.DEVICE);
    for (GraphVertex v : training.getVertices().values()) {
      if (v instanceof LayerVertex lv) {
        Layers.swapActivation(unwrap(lv.getLayerConf().getLayer()), Rebuild::forTraining);
        keepDepthwisePreActivation(lv);
        Layer layer = lv.getLayerConf().getLayer();
        if (TrainingConvolution.isPlain(layer)) {
          lv.getLayerConf().setLayer(TrainingConvolution.of((ConvolutionLayer) layer));
        } else if (OnePassGlobalPooling.isPlain(layer)) {
          lv.getLayerConf().setLayer(OnePassGlobalPooling.of((GlobalPoolingLayer) layer));
        } else if (TrainingActivationLayer.isPlain(layer)) {
          lv.getLayerConf().setLayer(TrainingActivationLayer.of((ActivationLayer) layer));
        }
      }
    }
    TrainingLayout.toNhwc(training);
    ComputationGraph net = NativeTuning.withLayerHelpers(() -> instantiate(training, source, seed));
    net.setCacheMode(CacheMode.DEVICE); // the layers read their own copy of the mode
    TrainingConvolutionHelper.install(net);
    TrainingUpdater.install(net);
    ChunkedAdam.install(net);
    return net;
  }

  /**
   * A depthwise convolution, bare or frozen with backprop, as {@link TrainingDepthwiseConvolution}
   * (a frozen one without backprop never runs a backward pass).
   */
  private static void keepDepthwisePreActivation(LayerVertex vertex) {
    Layer layer = vertex.getLayerConf().getLayer();
    if (TrainingDepthwiseConvolution.isPlain(layer)) {
      vertex
          .getLayerConf()
          .setLayer(TrainingDepthwiseConvolution.of((DepthwiseConvolution2D) layer));
    } else if (layer instanceof FrozenLayerWithBackprop frozen
        && TrainingDepthwiseConvolution.isPlain(frozen.getUnderlying())) {
      frozen.setUnderlying(
          TrainingDepthwiseConvolution.of((DepthwiseConvolution2D) frozen.getUnderlying()));
    }
  }

  /**
   * DL4J's swish and ReLU6 as {@link ActivationSwishTanh} and {@link TrainingReLU6}, whose backward
   * passes are vectorised (and swish's forward pass too); any other activation as it is.
   */
  private static IActivation forTraining(IActivation a) {
    if (a != null && a.getClass() == ActivationSwish.class) {
      return new ActivationSwishTanh();
    }
    if (a != null && a.getClass() == ActivationReLU6.class) {
      return new TrainingReLU6();
    }
    return a;
  }

  /**
   * Instantiates {@code conf} and copies the parameters of every layer that {@code source} has
   * under the same name (BatchNorm moving statistics included).
   */
  public static ComputationGraph instantiate(
      ComputationGraphConfiguration conf, ComputationGraph source, long seed) {
    ComputationGraph net = GraphWorkspaces.settleInFirstPass(new ComputationGraph(conf));
    Nd4j.getRandom().setSeed(seed);
    net.init();
    ParameterTransfer.copy(source, net, null);
    return net;
  }
}
