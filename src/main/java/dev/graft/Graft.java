package dev.graft;

import dev.graft.base.Base;
import dev.graft.perf.NativeTuning;

/**
 * Entry point: transfer learning on images in a few fluent calls.
 *
 * <pre>{@code
 * Base base = Bases.resnet50().imagenet().load();
 * Split data = ImageFolder.of(Path.of("flowers")).split(0.8, 42);
 * TransferModel model = Graft.base(base)
 *     .head(Head.averagePooling().dense(256).dropout(0.3))
 *     .strategy(Strategy.fineTune().unfreezeLastBlocks(1))
 *     .epochs(10).earlyStopping(3)
 *     .fit(data.train(), data.validation());
 * model.save(Path.of("flowers.graft"));
 * }</pre>
 *
 * <p>The returned model's network maps preprocessed images {@code [N, 3, s, s]} to softmax
 * probabilities, whatever the strategy: base up to the cut, then the trained head, in one DL4J
 * {@code ComputationGraph}.
 */
public final class Graft {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  private Graft() {}

  /** Starts a transfer-learning job on {@code base} (which is never modified). */
  public static TransferBuilder base(Base base) {
    return new TransferBuilder(base);
  }
}
