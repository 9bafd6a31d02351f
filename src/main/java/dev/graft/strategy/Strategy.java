package dev.graft.strategy;

/**
 * How a base is adapted to a new task. One of three, each an immutable value configured
 * fluently:
 *
 * <pre>{@code
 * Strategy.frozen();                                          // train the head only
 * Strategy.fineTune().unfreezeLastBlocks(1).learningRate(1e-4); // then the top of the base, slowly
 * Strategy.features();                                        // pooled features once, then a small head
 * }</pre>
 *
 * See {@code docs/strategies.md} for when to pick which.
 */
public sealed interface Strategy permits FrozenBase, FineTune, FeatureExtraction {

  /** The frozen-base strategy with its defaults (Adam at 1e-3 on the head). */
  static FrozenBase frozen() {
    return FrozenBase.DEFAULT;
  }

  /**
   * The fine-tuning strategy with its defaults: the base's last block (or its last two layers
   * with parameters when it declares no blocks) at Adam 1e-4, the head 10x faster, two head-only
   * warm-up epochs first, BatchNorm in inference mode.
   */
  static FineTune fineTune() {
    return FineTune.DEFAULT;
  }

  /** The feature-extraction strategy with its defaults (Adam at 1e-3 on the head). */
  static FeatureExtraction features() {
    return FeatureExtraction.DEFAULT;
  }

  /** Short name, as the command line and model files spell it: frozen, finetune, features. */
  String name();

  /** The strategy's main learning rate: the head's for frozen and features, the base's for fine-tune. */
  double learningRate();

  /** A one-line description of the strategy and its settings. */
  String describe();

  /** Parses a command-line strategy name: frozen, finetune (fine-tune), features. */
  static Strategy named(String name) {
    return switch (name.toLowerCase(java.util.Locale.ROOT).replace("-", "").replace("_", "")) {
      case "frozen", "frozenbase" -> frozen();
      case "finetune" -> fineTune();
      case "features", "featureextraction" -> features();
      default -> throw new dev.graft.error.GraftException(
          "unknown strategy: '" + name + "' (expected frozen, finetune or features)");
    };
  }
}
