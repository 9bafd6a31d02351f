package dev.graft.strategy;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Everything {@code Trainer} executes, decided before the first epoch: the network trained in place
 * and, phase by phase, how the phase is fed and which network it trains. The strategy chose the
 * phases ({@link Strategy#plan}: which layers, which rates, how many epochs); the assembled graph
 * chose where each phase's freeze boundary lies and whether the activations there are cached once,
 * derived from a deeper phase's cache, or recomputed on every batch ({@link #of}). The trainer only
 * runs it: it reads no graph and makes none of these choices.
 *
 * <pre>{@code
 * TransferGraph tg = TransferGraph.assemble(base, head, Strategy.fineTune(), options);
 * TrainingPlan plan = tg.plan(true, cacheKey);   // true: frozen activations may be cached
 * TrainingResult r = Trainer.train(plan, trainBatches, validationBatches, config);
 * }</pre>
 *
 * <p>Networks and frozen parts are built when the trainer reaches their phase, not here: a phase's
 * schedule length depends on how many examples its cache holds, and building every phase's parts up
 * front would hold them all in memory at once.
 */
public final class TrainingPlan {
  private final ComputationGraph network;
  private final List<Step> steps;
  private final SharedCache sharedCache;

  private TrainingPlan(ComputationGraph network, List<Step> steps, SharedCache sharedCache) {
    this.network = network;
    this.steps = List.copyOf(steps);
    this.sharedCache = sharedCache;
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
   * A cache at the last phase's boundary that the earlier phases derive their inputs from, so that
   * the base runs over each image once; null when the phases do not share one.
   */
  public SharedCache sharedCache() {
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
   * @param feed where the inputs of the network it trains come from, and that network
   */
  public record Step(Phase phase, Feed feed) {
    /** Checks presence. */
    public Step {
      Objects.requireNonNull(phase, "phase");
      Objects.requireNonNull(feed, "feed");
    }
  }

  /**
   * The network a phase trains, built for a schedule of {@code totalSteps} iterations (0: no
   * schedule, constant rates); every layer outside the phase's frozen.
   */
  @FunctionalInterface
  public interface PhaseNetwork {
    /** Builds it, with copies of the whole network's current parameters. */
    ComputationGraph build(int totalSteps);
  }

  /**
   * The frozen activations at the deepest boundary, cached once for several phases.
   *
   * @param boundary the activations' names, in the order the frozen part returns them
   * @param frozenPart builds the frozen part that computes them from images
   */
  public record SharedCache(List<String> boundary, Supplier<FrozenPart> frozenPart) {
    /** Copies the list. */
    public SharedCache {
      boundary = List.copyOf(boundary);
    }
  }

  /** Where a phase's inputs come from; each variant carries what the trainer needs to run it. */
  public sealed interface Feed {
    /** The network the phase trains. */
    PhaseNetwork network();

    /**
     * Images straight into the whole network: a trainable layer reads the images, so nothing is
     * frozen below it.
     */
    record Images(PhaseNetwork network) implements Feed {}

    /**
     * Images through the frozen part on every batch (in inference mode), then the trainable part:
     * the phase does not cache (augmentation or caching off).
     */
    record FrozenEachBatch(Supplier<FrozenPart> frozenPart, PhaseNetwork network) implements Feed {}

    /** The frozen part's activations computed once into this phase's own cache. */
    record OwnCache(Supplier<FrozenPart> frozenPart, PhaseNetwork network) implements Feed {}

    /** The {@link #sharedCache() shared cache} as it is: this phase's boundary is its boundary. */
    record SharedCacheAsIs(PhaseNetwork network) implements Feed {}

    /**
     * Activations derived from the {@link #sharedCache() shared cache} through a frozen bridge to
     * this phase's boundary, without running the base again.
     *
     * @param bridge builds the bridge from the shared boundary to {@code boundary}
     * @param boundary this phase's boundary
     */
    record Derived(Supplier<FrozenBridge> bridge, List<String> boundary, PhaseNetwork network)
        implements Feed {
      /** Copies the list. */
      public Derived {
        boundary = List.copyOf(boundary);
      }
    }

    /**
     * The softmax output fitted once, to convergence, on this phase's own cache of the frozen
     * part's features (a logistic regression).
     *
     * @param l2 the head's L2 strength, or NaN to choose it by cross-validation
     * @param classWeights per-class loss weights, or null
     */
    record ConvexFit(
        Supplier<FrozenPart> frozenPart, PhaseNetwork network, double l2, double[] classWeights)
        implements Feed {}

    /** Whether the phase trains on cached activations. */
    default boolean cached() {
      return !(this instanceof Images || this instanceof FrozenEachBatch);
    }
  }

  /**
   * The plan for an assembled graph: its phases, each fed from a cache where caching is allowed and
   * something below the phase is frozen.
   *
   * @param cacheActivations whether frozen activations may be computed once and reused (off when
   *     the training images are augmented)
   * @param cacheKey identifies base and weights, for a cache that outlives the run
   * @throws GraftException when a phase fits a logistic regression and the activations cannot be
   *     cached
   */
  static TrainingPlan of(TransferGraph tg, boolean cacheActivations, String cacheKey) {
    List<Phase> phases = tg.phases();
    Phase lastPhase = phases.get(phases.size() - 1);
    SharedCache shared = null;
    if (cacheActivations
        && phases.stream().filter(p -> p.epochs() > 0).count() > 1
        && tg.hasFrozenPart(lastPhase)) {
      shared =
          new SharedCache(
              tg.boundary(lastPhase), () -> tg.frozenPart(lastPhase, cacheKey).orElseThrow());
    }
    List<Step> steps = new ArrayList<>();
    for (Phase phase : phases) {
      steps.add(
          new Step(phase, feed(tg, phase, phase == lastPhase, shared, cacheActivations, cacheKey)));
    }
    return new TrainingPlan(tg.network(), steps, shared);
  }

  private static Feed feed(
      TransferGraph tg,
      Phase phase,
      boolean last,
      SharedCache shared,
      boolean cacheActivations,
      String cacheKey) {
    PhaseNetwork trainable = steps -> tg.trainablePart(phase, steps);
    Supplier<FrozenPart> frozen = () -> tg.frozenPart(phase, cacheKey).orElseThrow();
    boolean hasFrozen = tg.hasFrozenPart(phase);
    if (phase.convex()) {
      if (!hasFrozen || !cacheActivations) {
        throw new GraftException(
            "a logistic-regression head is fitted on cached features, and this run does not"
                + " cache them (augmentation or caching off): use a head trained by Adam"
                + " (Head.averagePooling())");
      }
      return new Feed.ConvexFit(frozen, trainable, tg.head().l2(), tg.options().classWeights());
    }
    if (shared != null) {
      if (last) {
        return new Feed.SharedCacheAsIs(trainable);
      }
      List<String> boundary = tg.boundary(phase);
      if (tg.canBridge(shared.boundary(), boundary)) {
        return new Feed.Derived(
            () -> tg.bridge(shared.boundary(), boundary).orElseThrow(), boundary, trainable);
      }
    }
    if (!hasFrozen) {
      return new Feed.Images(steps -> tg.phaseNetwork(phase, steps));
    }
    return cacheActivations
        ? new Feed.OwnCache(frozen, trainable)
        : new Feed.FrozenEachBatch(frozen, trainable);
  }
}
