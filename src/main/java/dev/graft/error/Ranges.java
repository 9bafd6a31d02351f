package dev.graft.error;

/**
 * The one place each numeric run setting's range is checked (batch size, epochs, learning rate,
 * patience, weight decay). It sits at the bottom of Graft so that the run description ({@code
 * RunSpec}), the lower-level batchers and featurizers, and the command line all ask the same rule;
 * {@code ArchitectureRulesTest} keeps these comparisons out of every other file.
 */
public final class Ranges {
  private Ranges() {}

  /**
   * A minibatch size: at least 1.
   *
   * @return {@code n}
   * @throws SettingException ({@link SettingException.Setting#BATCH_SIZE}) otherwise
   */
  public static int batchSize(int n) {
    if (n < 1) {
      throw new SettingException(
          SettingException.Setting.BATCH_SIZE, "batch size must be >= 1, got " + n);
    }
    return n;
  }

  /**
   * Training epochs in all: at least 1.
   *
   * @return {@code n}
   * @throws SettingException ({@link SettingException.Setting#EPOCHS}) otherwise
   */
  public static int epochs(int n) {
    if (n < 1) {
      throw new SettingException(SettingException.Setting.EPOCHS, "epochs must be >= 1, got " + n);
    }
    return n;
  }

  /**
   * A learning rate: positive and finite.
   *
   * @return {@code lr}
   * @throws SettingException ({@link SettingException.Setting#LEARNING_RATE}) otherwise
   */
  public static double learningRate(double lr) {
    if (!(lr > 0 && lr < Double.POSITIVE_INFINITY)) {
      throw new SettingException(
          SettingException.Setting.LEARNING_RATE, "learning rate must be positive, got " + lr);
    }
    return lr;
  }

  /**
   * Early-stopping patience: at least 0 (0: never stop early).
   *
   * @return {@code n}
   * @throws SettingException ({@link SettingException.Setting#PATIENCE}) otherwise
   */
  public static int patience(int n) {
    if (n < 0) {
      throw new SettingException(
          SettingException.Setting.PATIENCE, "early-stopping patience must be >= 0, got " + n);
    }
    return n;
  }

  /**
   * Decoupled weight decay: finite and at least 0.
   *
   * @return {@code wd}
   * @throws SettingException ({@link SettingException.Setting#WEIGHT_DECAY}) otherwise
   */
  public static double weightDecay(double wd) {
    if (!(wd >= 0 && wd < Double.POSITIVE_INFINITY)) {
      throw new SettingException(
          SettingException.Setting.WEIGHT_DECAY, "weight decay must be >= 0, got " + wd);
    }
    return wd;
  }
}
