package dev.graft.cli;

import dev.graft.error.GraftException;
import dev.graft.strategy.FineTune;
import dev.graft.strategy.Strategy;
import picocli.CommandLine.Option;

/**
 * The {@code --strategy} and {@code --unfreeze} options, shared by {@code train} and {@code
 * lr-find} so that both read them the same way and blame the same flag.
 */
final class StrategyOptions {
  @Option(
      names = "--strategy",
      required = true,
      paramLabel = "frozen|finetune|features",
      order = 3,
      description =
          "frozen: train a new head on the frozen base; finetune: also train the base's"
              + " last layers at a low rate; features: a small head on pooled features computed once.")
  String name;

  @Option(
      names = "--unfreeze",
      paramLabel = "N",
      order = 4,
      description = "finetune only: how many of the base's last layers with parameters to train.")
  Integer unfreeze;

  /**
   * The strategy the flags name.
   *
   * @throws BadInputException naming {@code --strategy} or {@code --unfreeze}, whichever is at
   *     fault
   */
  Strategy strategy() {
    Strategy s;
    try {
      s = Strategy.named(name);
    } catch (GraftException e) {
      throw GraftCommand.blame("--strategy", e);
    }
    if (unfreeze != null) {
      if (!(s instanceof FineTune ft)) {
        throw new BadInputException(
            "--unfreeze: only applies to --strategy finetune, got --strategy " + name);
      }
      if (unfreeze < 1) {
        throw new BadInputException("--unfreeze: must be at least 1, got " + unfreeze);
      }
      s = ft.unfreezeLast(unfreeze);
    }
    return s;
  }
}
