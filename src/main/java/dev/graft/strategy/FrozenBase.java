package dev.graft.strategy;

/**
 * Frozen base: every base layer is wrapped in DL4J's {@code FrozenLayer} (parameters fixed,
 * BatchNorm and dropout in inference mode) and only the head trains. Without augmentation the
 * base's output is computed once per image and every epoch trains the head alone.
 */
public final class FrozenBase extends HeadOnly {
  static final FrozenBase DEFAULT = new FrozenBase(1e-3);

  private FrozenBase(double learningRate) {
    super(learningRate);
  }

  /** Adam learning rate of the head (default 1e-3). */
  public FrozenBase learningRate(double lr) {
    return new FrozenBase(lr);
  }

  @Override
  public String name() {
    return "frozen";
  }

  @Override
  public String describe() {
    return "frozen base, head at Adam " + learningRate();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FrozenBase f && f.learningRate() == learningRate();
  }

  @Override
  public int hashCode() {
    return Double.hashCode(learningRate());
  }
}
