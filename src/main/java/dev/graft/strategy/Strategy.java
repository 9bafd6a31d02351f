package dev.graft.strategy;

import dev.graft.error.SettingException;
import java.util.List;

/**
 * How a base is adapted to a new task. One of three, each an immutable value configured fluently:
 *
 * <pre>{@code
 * Strategy.frozen();                                          // train the head only
 * Strategy.fineTune().unfreezeLastBlocks(1).learningRate(1e-4); // then the top of the base, slowly
 * Strategy.features();                                        // pooled features once, then a small head
 * }</pre>
 *
 * <p>Each strategy owns its behaviour: {@link #plan} turns the assembled graph's layout into the
 * training phases (which layers train, each at which rate, for how many epochs); {@link
 * TransferGraph} builds what the plan names and {@code Trainer} runs it. A new strategy is one more
 * type here.
 *
 * <p>See {@code docs/strategies.md} for when to pick which.
 */
public sealed interface Strategy permits HeadOnly, FineTune {

  /**
   * The frozen-base strategy with its defaults: the whole base frozen, the head (the one given, or
   * the base's {@linkplain dev.graft.base.Base#defaultHead() default head}) trained by Adam at 1e-3
   * for the run's epochs.
   */
  static FrozenBase frozen() {
    return FrozenBase.DEFAULT;
  }

  /**
   * The fine-tuning strategy with its defaults: the base's last block (or its last two layers with
   * parameters when it declares no blocks) at Adam 1e-4, the head 10x faster, two head-only warm-up
   * epochs first, BatchNorm in inference mode.
   */
  static FineTune fineTune() {
    return FineTune.DEFAULT;
  }

  /**
   * The feature-extraction strategy with its defaults: the base's pooled features computed once;
   * with no head given, a {@linkplain dev.graft.head.Head#logisticRegression() logistic regression}
   * fitted to convergence on them (no epochs, no learning rate); a head given trains by Adam at
   * 1e-3.
   */
  static FeatureExtraction features() {
    return FeatureExtraction.DEFAULT;
  }

  /** Short name, as the command line and model files spell it: frozen, finetune, features. */
  String name();

  /**
   * The strategy's main learning rate: the head's for frozen and features, the base's for
   * fine-tune.
   */
  double learningRate();

  /**
   * This strategy with its main learning rate replaced (what {@code TransferBuilder.learningRate}
   * does to a run), so that its description names the rate in force.
   *
   * @param lr the new main rate, positive
   * @return a strategy equal to this one but for the rate
   */
  Strategy withLearningRate(double lr);

  /** A one-line description of the strategy and its settings. */
  String describe();

  /**
   * The training phases, in order, for an assembled graph.
   *
   * @param layout the layers of the assembled base + head
   * @param options epochs and an optional override of {@link #learningRate()}
   * @throws dev.graft.error.GraftException when the graph cannot be trained this way (for example
   *     nothing to unfreeze)
   */
  List<Phase> plan(GraphLayout layout, GraphOptions options);

  /**
   * Whether image augmentation applies (default true); false for a strategy that sees each image
   * through the base once.
   */
  default boolean acceptsAugmentation() {
    return true;
  }

  /**
   * Whether only the head trains, on a frozen base (default false): then the base's output can be
   * cached and a {@link dev.graft.head.Head#logisticRegression() logistic-regression head} fitted
   * to convergence on it, the default head of such strategies.
   */
  default boolean headOnly() {
    return false;
  }

  /**
   * The one rule a head must meet with this strategy: a logistic-regression head ({@link
   * dev.graft.head.Head.Solver#LBFGS}) is fitted to convergence on the cached output of a frozen
   * base, so it needs a strategy that trains the head only ({@link #headOnly()}) and cached
   * activations. The run description checks it when it is built, the command line before any work,
   * and {@link TransferGraph#plan} for code that plans a graph itself.
   *
   * @param solver how the head is trained
   * @param cached whether frozen activations are cached (never with augmentation)
   * @throws SettingException ({@link SettingException.Setting#HEAD}) when the head cannot train so
   */
  default void checkHead(dev.graft.head.Head.Solver solver, boolean cached) {
    if (solver != dev.graft.head.Head.Solver.LBFGS) {
      return;
    }
    if (!headOnly()) {
      throw new SettingException(
          SettingException.Setting.HEAD,
          "a logistic-regression head is fitted on the cached output of a frozen base: "
              + describe()
              + " trains the base too; use a frozen base (Strategy.frozen() or"
              + " Strategy.features()) or a head trained by Adam (Head.averagePooling())");
    }
    if (!cached) {
      throw new SettingException(
          SettingException.Setting.HEAD,
          "a logistic-regression head is fitted on cached features, and this run does not"
              + " cache them (augmentation or caching off): use a head trained by Adam"
              + " (Head.averagePooling())");
    }
  }

  /**
   * Whether the default head (no head given, the base's output cached) is a {@linkplain
   * dev.graft.head.Head#logisticRegression() logistic regression} fitted to convergence (default
   * false): true for feature extraction only. Frozen base trains the base's default head by Adam.
   */
  default boolean defaultsToLogisticRegression() {
    return false;
  }

  /**
   * {@link #describe()} for a run whose head is fitted to convergence (L-BFGS), where no learning
   * rate applies (default: {@link #describe()}).
   */
  default String describeWithoutRate() {
    return describe();
  }

  /** Parses a command-line strategy name: frozen, finetune (fine-tune), features. */
  static Strategy named(String name) {
    return switch (name.toLowerCase(java.util.Locale.ROOT).replace("-", "").replace("_", "")) {
      case "frozen", "frozenbase" -> frozen();
      case "finetune" -> fineTune();
      case "features", "featureextraction" -> features();
      default ->
          throw new dev.graft.error.GraftException(
              "unknown strategy: '" + name + "' (expected frozen, finetune or features)");
    };
  }
}
