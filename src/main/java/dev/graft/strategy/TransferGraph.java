package dev.graft.strategy;

import dev.graft.base.Base;
import dev.graft.base.Block;
import dev.graft.error.GraftException;
import dev.graft.features.FeatureKey;
import dev.graft.graph.Layers;
import dev.graft.graph.Rebuild;
import dev.graft.graph.Topology;
import dev.graft.head.Head;
import dev.graft.head.HeadLayers;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A base cut at a layer, a head on top, and how to train it: the one {@link ComputationGraph} that
 * maps preprocessed images {@code [N, 3, s, s]} to class probabilities, plus the training {@link
 * Phase}s the strategy asks for.
 *
 * <pre>{@code
 * TransferGraph tg = TransferGraph.assemble(base, Head.flatten().dense(256),
 *     Strategy.fineTune().unfreezeLast(3), GraphOptions.of(10));
 * ComputationGraph net = tg.network();   // frozen layers wrapped, head initialised
 * }</pre>
 *
 * <p>The base graph is never modified: the assembled network holds copies of its parameters. Layers
 * are named as in the base; the head adds {@code head_pool}, {@code head_dense_1}, ... and {@code
 * head_output}.
 *
 * <p>Cutting the assembled network into per-phase parts is the plan's ({@link #plan}, {@link
 * TrainingPlan}); the graph surgery itself is in {@code dev.graft.graph}.
 */
public final class TransferGraph {
  private static final Logger log = LoggerFactory.getLogger(TransferGraph.class);

  private final ComputationGraph network;
  private final String inputName;
  private final String cut;
  private final List<String> headLayers;
  private final List<String> unfrozenBaseLayers;
  private final List<Phase> phases;
  private final GraphOptions options;
  private final Strategy strategy;
  private final Head head;

  private TransferGraph(
      ComputationGraph network,
      String inputName,
      String cut,
      List<String> headLayers,
      List<String> unfrozenBaseLayers,
      List<Phase> phases,
      GraphOptions options,
      Strategy strategy,
      Head head) {
    this.network = network;
    this.inputName = inputName;
    this.cut = cut;
    this.headLayers = List.copyOf(headLayers);
    this.unfrozenBaseLayers = List.copyOf(unfrozenBaseLayers);
    this.phases = List.copyOf(phases);
    this.options = options;
    this.strategy = strategy;
    this.head = head;
  }

  /**
   * Assembles a loaded base (up to its feature layer) + head for {@code strategy}.
   *
   * @param base the base; its graph is not modified
   * @param head the head
   * @param strategy the strategy
   * @param options class count, class weights, weight decay, seed, epochs, rate override
   */
  public static TransferGraph assemble(
      Base base, Head head, Strategy strategy, GraphOptions options) {
    return assemble(
        base.graph(),
        base.inputSize(),
        base.featureLayer(),
        base.blocks(),
        head,
        strategy,
        options);
  }

  /**
   * Assembles base (up to {@code cut}) + head for {@code strategy}.
   *
   * @param base the pretrained graph, one input taking {@code [N, 3, inputSize, inputSize]}; not
   *     modified
   * @param inputSize square input side the base runs at
   * @param cut the vertex whose output the head reads ({@code [N, C, h, w]} or {@code [N, F]})
   * @param blocks the base's unfreezable blocks in order (may be empty)
   * @param head the head
   * @param strategy the strategy
   * @param options class count, class weights, weight decay, seed, epochs, rate override
   * @throws GraftException for a missing cut, unknown block, or nothing to unfreeze
   */
  public static TransferGraph assemble(
      ComputationGraph base,
      int inputSize,
      String cut,
      List<Block> blocks,
      Head head,
      Strategy strategy,
      GraphOptions options) {
    ComputationGraphConfiguration conf = base.getConfiguration();
    if (conf.getNetworkInputs().size() != 1) {
      throw new GraftException(
          "a base needs exactly one input, this one has " + conf.getNetworkInputs());
    }
    String input = conf.getNetworkInputs().get(0);
    if (!conf.getVertices().containsKey(cut)) {
      throw new GraftException(
          "cut layer '"
              + cut
              + "' is not in the base (layers: "
              + conf.getVertices().keySet()
              + ")");
    }
    Set<String> keep = Topology.ancestors(conf, List.of(cut));
    List<String> order = new ArrayList<>(Topology.order(conf));
    order.retainAll(keep);

    // Shape at the cut, from one forward pass in inference mode.
    INDArray probe =
        Nd4j.zeros(
            base.getConfiguration().getDataType() == null
                ? DataType.FLOAT
                : base.getConfiguration().getDataType(),
            1,
            3,
            inputSize,
            inputSize);
    INDArray cutAct = base.feedForward(new INDArray[] {probe}, false, false).get(cut);
    if (cutAct == null) {
      throw new GraftException("cut layer '" + cut + "' produced no activation");
    }
    long[] cutShape = cutAct.shape();

    // Raw configuration: base vertices up to the cut, then the head.
    NeuralNetConfiguration.Builder global =
        new NeuralNetConfiguration.Builder()
            .seed(options.seed())
            .dataType(conf.getDataType())
            .trainingWorkspaceMode(conf.getTrainingWorkspaceMode())
            .inferenceWorkspaceMode(conf.getInferenceWorkspaceMode())
            .cacheMode(conf.getCacheMode())
            .updater(new Adam(1e-3))
            .weightInit(WeightInit.XAVIER);
    ComputationGraphConfiguration.GraphBuilder gb = global.graphBuilder().addInputs(input);
    for (String v : order) {
      GraphVertex gv = conf.getVertices().get(v).clone();
      if (gv instanceof LayerVertex lv) {
        lv.getLayerConf().setLayer(Layers.unwrap(lv.getLayerConf().getLayer()));
      }
      gb.addVertex(v, gv, Topology.inputsOf(conf, v).toArray(String[]::new));
    }
    List<String> headLayers =
        HeadLayers.add(gb, cut, cutShape, head, options.numClasses(), options.classWeights());
    gb.setOutputs(HeadLayers.OUTPUT);
    ComputationGraphConfiguration raw = gb.build();

    // Which layers train, and at which rate, phase by phase: the strategy's plan.
    List<String> paramLayers = order.stream().filter(v -> Layers.hasParams(conf, v)).toList();
    Set<String> batchNorm = new LinkedHashSet<>();
    paramLayers.stream().filter(v -> Layers.isBatchNorm(conf, v)).forEach(batchNorm::add);
    List<String> headParams = headLayers.stream().filter(h -> Layers.hasParams(raw, h)).toList();
    List<Phase> phases =
        strategy.plan(
            new GraphLayout(
                paramLayers,
                batchNorm,
                blocks == null ? List.of() : blocks,
                headParams,
                head.solver() == Head.Solver.LBFGS,
                order),
            options);
    Set<String> trained = new LinkedHashSet<>();
    phases.forEach(p -> trained.addAll(p.trainable()));
    List<String> unfrozen = paramLayers.stream().filter(trained::contains).toList();

    Phase last = phases.get(phases.size() - 1);
    ComputationGraphConfiguration finalConf =
        Rebuild.rebuild(
            raw,
            raw.getVertices().keySet(),
            List.of(input),
            List.of(HeadLayers.OUTPUT),
            last.updaters(0),
            options.weightDecay(),
            options.seed());
    ComputationGraph net = Rebuild.instantiate(finalConf, base, options.seed());
    return new TransferGraph(
        net, input, cut, headLayers, unfrozen, phases, options, strategy, head);
  }

  /** The assembled network: images in, probabilities out; frozen layers wrapped. */
  public ComputationGraph network() {
    return network;
  }

  /** The network's input name (the base's). */
  public String inputName() {
    return inputName;
  }

  /** The cut layer the head reads. */
  public String cut() {
    return cut;
  }

  /** The head's layers in order, {@link HeadLayers#OUTPUT} last. */
  public List<String> headLayers() {
    return headLayers;
  }

  /** Base layers that train in the fine-tuning phase (empty for the other strategies). */
  public List<String> unfrozenBaseLayers() {
    return unfrozenBaseLayers;
  }

  /** The training phases, in order. */
  public List<Phase> phases() {
    return phases;
  }

  /** The options the graph was assembled with. */
  public GraphOptions options() {
    return options;
  }

  /** The strategy. */
  public Strategy strategy() {
    return strategy;
  }

  /** The head. */
  public Head head() {
    return head;
  }

  /**
   * What {@code Trainer} runs: the phases, each with how it is fed (see {@link TrainingPlan}).
   *
   * @param cacheActivations whether frozen activations may be computed once and reused; off when
   *     the training images are augmented
   * @param input the base, its weights and how images reach it: the frozen parts' cache keys
   * @throws dev.graft.error.SettingException when the head cannot train with this strategy and
   *     caching ({@link Strategy#checkHead})
   */
  public TrainingPlan plan(boolean cacheActivations, FeatureKey.Input input) {
    strategy.checkHead(head.solver(), cacheActivations);
    return TrainingPlan.of(this, cacheActivations, input);
  }
}
