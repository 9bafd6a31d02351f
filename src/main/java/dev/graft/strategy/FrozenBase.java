package dev.graft.strategy;

/**
 * Frozen base: every base layer is wrapped in DL4J's {@code FrozenLayer} (parameters fixed,
 * BatchNorm and dropout in inference mode) and only the head trains, by Adam epochs (default 1e-3):
 * the head given, or the base's {@linkplain dev.graft.base.Base#defaultHead() default head} (VGG16:
 * flatten, dense 256, dropout 0.5; the others: global average pooling). Without augmentation the
 * base's output is computed once per image and every epoch trains the head alone. A
 * logistic-regression head fitted to convergence is {@link Strategy#features()}'s default; here
 * only when asked for ({@code .head(Head.logisticRegression())}).
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
  public FrozenBase withLearningRate(double lr) {
    return learningRate(lr);
  }

  @Override
  public String describe() {
    return "frozen base, head at Adam " + learningRate();
  }

  /** "frozen base": the head is fitted by L-BFGS, no rate applies. */
  @Override
  public String describeWithoutRate() {
    return "frozen base";
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
