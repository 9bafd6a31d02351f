package dev.graft.strategy;

import dev.graft.error.GraftException;
import dev.graft.features.FeatureKey;
import dev.graft.features.InferenceNetwork;
import dev.graft.graph.Partition;
import dev.graft.graph.Rebuild;
import dev.graft.head.HeadLayers;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything {@code Trainer} executes, decided before the first epoch and held as data: the network
 * trained in place and, phase by phase, how the phase is fed and which part of the network it
 * trains. The strategy chose the phases ({@link Strategy#plan}: which layers, which rates, how many
 * epochs); {@link #of} split the network once per phase ({@link Partition}) and chose where each
 * phase's inputs come from: a cache filled once, a cache derived from a deeper phase's cache, or
 * the images on every batch. The trainer only runs it: it reads no graph and makes none of these
 * choices.
 *
 * <pre>{@code
 * TransferGraph tg = TransferGraph.assemble(base, head, Strategy.fineTune(), options);
 * TrainingPlan plan = tg.plan(true, cacheInput);   // true: frozen activations may be cached
 * TrainingResult r = Trainer.train(plan, trainBatches, validationBatches, config);
 * }</pre>
 *
 * <p>Each feed holds specifications (vertex names, boundaries, cache keys), not networks: a part is
 * built from the plan's network when the trainer reaches its phase ({@link #trainablePart}, {@link
 * #frozenPart}, {@link #bridge}), because a phase's schedule length depends on how many examples
 * its cache holds, and building every phase's parts up front would hold them all in memory at once.
 *
 * <p>Why one class of this size: the six feed variants are small records that only mean something
 * together (the visitor names each of them), and the parts are built from the network and settings
 * the plan holds; most of the lines are Javadoc and the variants' one-line methods.
 */
public final class TrainingPlan {
  private final ComputationGraph network;
  private final String input;
  private final List<Step> steps;
  private final FrozenSpec sharedCache;
  private final double weightDecay;
  private final long seed;

  private TrainingPlan(
      ComputationGraph network,
      String input,
      List<Step> steps,
      FrozenSpec sharedCache,
      double weightDecay,
      long seed) {
    this.network = network;
    this.input = input;
    this.steps = List.copyOf(steps);
    this.sharedCache = sharedCache;
    this.weightDecay = weightDecay;
    this.seed = seed;
  }

  /** The whole network (images in, probabilities out), trained in place phase by phase. */
  public ComputationGraph network() {
    return network;
  }

  /** The phases in order, each with how it is fed. */
  public List<Step> steps() {
    return steps;
  }

  /**
   * The frozen part whose activations (at the last phase's boundary) are cached once for several
   * phases, the earlier ones deriving their inputs from that cache, so that the base runs over each
   * image once; null when the phases do not share one.
   */
  public FrozenSpec sharedCache() {
    return sharedCache;
  }

  /** Every layer that trains in some phase, in the phases' order. */
  public Set<String> everTrainable() {
    Set<String> s = new LinkedHashSet<>();
    steps.forEach(st -> s.addAll(st.phase().trainable()));
    return s;
  }

  /** Epochs over all phases. */
  public int totalEpochs() {
    return steps.stream().mapToInt(st -> st.phase().epochs()).sum();
  }

  /**
   * One phase and how it is fed.
   *
   * @param phase which layers train, at which rates, for how many epochs
   * @param feed where the inputs of the part it trains come from, and that part
   */
  public record Step(Phase phase, Feed feed) {
    /** Checks presence. */
    public Step {
      Objects.requireNonNull(phase, "phase");
      Objects.requireNonNull(feed, "feed");
    }
  }

  /**
   * The part of the network a phase trains: the vertices from its boundary to the output.
   *
   * @param vertices the trainable part's vertices (its frozen layers included), topological order
   * @param inputs the boundary activations it reads, in the order the frozen part returns them
   */
  public record TrainablePart(Set<String> vertices, List<String> inputs) {
    /** Copies the collections. */
    public TrainablePart {
      vertices = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(vertices));
      inputs = List.copyOf(inputs);
    }
  }

  /**
   * The frozen part below a boundary: images in, the boundary's activations out, in inference mode.
   *
   * @param boundary the activations' names, in the order the part returns them
   * @param cacheKey identifies the computation (base, weights, input, cut, boundary) for a cache
   *     that outlives the run
   */
  public record FrozenSpec(List<String> boundary, FeatureKey cacheKey) {
    /** Copies the list. */
    public FrozenSpec {
      boundary = List.copyOf(boundary);
    }
  }

  /**
   * Where a phase's inputs come from. Each variant is data; the trainer turns it into a runner
   * through {@link #accept}, so that which runner a feed gets is written once, in the visitor, and
   * no code asks a feed what type it is.
   */
  public sealed interface Feed {
    /** The part of the network the phase trains. */
    TrainablePart trainable();

    /** Whether the phase trains on cached activations. */
    boolean cached();

    /**
     * The frozen part this feed runs over the images itself (to fill its own cache, or on every
     * batch); empty when a trainable layer reads the images or the inputs come from the shared
     * cache.
     */
    default Optional<FrozenSpec> ownFrozenPart() {
      return Optional.empty();
    }

    /**
     * Calls the visitor's method for this variant.
     *
     * @param visitor what to do with each variant
     * @param <R> the result type
     * @return what the visitor returned
     */
    <R> R accept(Visitor<R> visitor);

    /**
     * One method per variant: how a consumer (the trainer, the learning-rate finder) handles it.
     *
     * @param <R> the result type
     */
    interface Visitor<R> {
      /** A trainable layer reads the images. */
      R images(Images feed);

      /** The frozen part runs on every batch. */
      R frozenEachBatch(FrozenEachBatch feed);

      /** The phase's own cache. */
      R ownCache(OwnCache feed);

      /** The shared cache as it is. */
      R sharedCacheAsIs(SharedCacheAsIs feed);

      /** A cache derived from the shared one. */
      R derived(Derived feed);

      /** A logistic regression on the phase's own cache. */
      R convexFit(ConvexFit feed);
    }

    /**
     * Images straight into the trainable part: a trainable layer reads the images, so nothing is
     * frozen below it.
     */
    record Images(TrainablePart trainable) implements Feed {
      @Override
      public boolean cached() {
        return false;
      }

      @Override
      public <R> R accept(Visitor<R> visitor) {
        return visitor.images(this);
      }
    }

    /**
     * Images through the frozen part on every batch (in inference mode), then the trainable part:
     * the phase does not cache (augmentation or caching off).
     */
    record FrozenEachBatch(FrozenSpec frozen, TrainablePart trainable) implements Feed {
      @Override
      public Optional<FrozenSpec> ownFrozenPart() {
        return Optional.of(frozen);
      }

      @Override
      public boolean cached() {
        return false;
      }

      @Override
      public <R> R accept(Visitor<R> visitor) {
        return visitor.frozenEachBatch(this);
      }
    }

    /** The frozen part's activations computed once into this phase's own cache. */
    record OwnCache(FrozenSpec frozen, TrainablePart trainable) implements Feed {
      @Override
      public Optional<FrozenSpec> ownFrozenPart() {
        return Optional.of(frozen);
      }

      @Override
      public boolean cached() {
        return true;
      }

      @Override
      public <R> R accept(Visitor<R> visitor) {
        return visitor.ownCache(this);
      }
    }

    /** The {@link #sharedCache() shared cache} as it is: this phase's boundary is its boundary. */
    record SharedCacheAsIs(TrainablePart trainable) implements Feed {
      @Override
      public boolean cached() {
        return true;
      }

      @Override
      public <R> R accept(Visitor<R> visitor) {
        return visitor.sharedCacheAsIs(this);
      }
    }

    /**
     * Activations derived from the {@link #sharedCache() shared cache} through a frozen bridge to
     * this phase's boundary, without running the base again.
     *
     * @param bridge the vertices from the shared boundary to this phase's ({@link
     *     Partition.Bridge#outputs()})
     */
    record Derived(Partition.Bridge bridge, TrainablePart trainable) implements Feed {
      @Override
      public boolean cached() {
        return true;
      }

      @Override
      public <R> R accept(Visitor<R> visitor) {
        return visitor.derived(this);
      }
    }

    /**
     * The softmax output fitted once, to convergence, on this phase's own cache of the frozen
     * part's features (a logistic regression).
     *
     * @param l2 the head's L2 strength, or NaN to choose it by cross-validation
     * @param classWeights per-class loss weights, or null
     */
    record ConvexFit(FrozenSpec frozen, TrainablePart trainable, double l2, double[] classWeights)
        implements Feed {
      @Override
      public Optional<FrozenSpec> ownFrozenPart() {
        return Optional.of(frozen);
      }

      @Override
      public boolean cached() {
        return true;
      }

      @Override
      public <R> R accept(Visitor<R> visitor) {
        return visitor.convexFit(this);
      }
    }
  }

  /**
   * Builds the part a phase trains: a copy of those vertices of the network with its current
   * parameters, the phase's layers training at its rates (the schedule over {@code totalSteps}
   * iterations when the phase has one, 0: constant rates), every other layer frozen. Its layers
   * train through oneDNN where the native build has it ({@link Rebuild#instantiateForTraining}).
   *
   * @param phase the phase
   * @param part its trainable part
   * @param totalSteps the schedule's length
   * @return a new network
   */
  public ComputationGraph trainablePart(Phase phase, TrainablePart part, int totalSteps) {
    return Rebuild.instantiateForTraining(
        Rebuild.rebuild(
            network.getConfiguration(),
            part.vertices(),
            part.inputs(),
            List.of(HeadLayers.OUTPUT),
            phase.updaters(totalSteps),
            weightDecay,
            seed),
        network,
        seed);
  }

  /**
   * Builds a frozen part on the one inference path ({@link InferenceNetwork}: BatchNorm folded,
   * activations fused, the batch split to a memory budget), as the predictor computes the same
   * activations.
   *
   * @param spec the boundary and cache key
   * @return the frozen part, with the network's current parameters
   */
  public FrozenPart frozenPart(FrozenSpec spec) {
    InferenceNetwork frozen = InferenceNetwork.of(network, List.of(input), spec.boundary());
    return new GraphFrozenPart(frozen, spec.boundary(), spec.cacheKey());
  }

  /**
   * Builds a frozen bridge between two boundaries.
   *
   * @param bridge the vertices, inputs and outputs
   * @return an inference-only graph with the network's current parameters
   */
  public FrozenBridge bridge(Partition.Bridge bridge) {
    var conf =
        Rebuild.rebuild(
            network.getConfiguration(),
            bridge.vertices(),
            bridge.inputs(),
            bridge.outputs(),
            Map.of(),
            0,
            seed);
    return new FrozenBridge(Rebuild.instantiate(conf, network, seed), bridge.inputIndices());
  }

  /**
   * The plan for an assembled graph: its phases, each fed from a cache where caching is allowed and
   * something below the phase is frozen. Every partition is computed here, once.
   *
   * @param tg the assembled graph
   * @param cacheActivations whether frozen activations may be computed once and reused (off when
   *     the training images are augmented)
   * @param input the base, its weights and how images reach it, for a cache that outlives the run
   * @throws GraftException when a phase fits a logistic regression and the activations cannot be
   *     cached
   */
  static TrainingPlan of(TransferGraph tg, boolean cacheActivations, FeatureKey.Input input) {
    Partition.Graph graph = Partition.of(tg.network().getConfiguration());
    List<Phase> phases = tg.phases();
    List<Partition> parts = phases.stream().map(p -> graph.split(p.trainable())).toList();
    Partition last = parts.get(parts.size() - 1);
    FrozenSpec shared =
        cacheActivations
                && phases.stream().filter(p -> p.epochs() > 0).count() > 1
                && !last.readsImages()
            ? frozenSpec(input, tg.cut(), last)
            : null;
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < phases.size(); i++) {
      Phase phase = phases.get(i);
      Partition part = parts.get(i);
      TrainablePart trainable = new TrainablePart(part.trainable(), part.boundary());
      FrozenSpec frozen = frozenSpec(input, tg.cut(), part);
      Feed feed;
      if (phase.convex()) {
        feed = new Feed.ConvexFit(frozen, trainable, tg.head().l2(), tg.options().classWeights());
      } else if (shared != null && i == phases.size() - 1) {
        feed = new Feed.SharedCacheAsIs(trainable);
      } else if (shared != null && graph.bridge(shared.boundary(), part.boundary()).isPresent()) {
        feed = new Feed.Derived(graph.bridge(shared.boundary(), part.boundary()).get(), trainable);
      } else if (part.readsImages()) {
        // the whole network, with the layers below the trainable ones frozen
        feed =
            new Feed.Images(
                new TrainablePart(
                    tg.network().getConfiguration().getVertices().keySet(),
                    List.of(tg.inputName())));
      } else {
        feed =
            cacheActivations
                ? new Feed.OwnCache(frozen, trainable)
                : new Feed.FrozenEachBatch(frozen, trainable);
      }
      steps.add(new Step(phase, feed));
    }
    return new TrainingPlan(
        tg.network(),
        tg.inputName(),
        steps,
        shared,
        tg.options().weightDecay(),
        tg.options().seed());
  }

  private static FrozenSpec frozenSpec(FeatureKey.Input input, String cut, Partition part) {
    return new FrozenSpec(part.boundary(), FeatureKey.activations(input, cut, part.boundary()));
  }

  private record GraphFrozenPart(InferenceNetwork network, List<String> outputs, FeatureKey key)
      implements FrozenPart {
    @Override
    public INDArray[] activations(INDArray images) {
      return network.output(images);
    }
  }
}
