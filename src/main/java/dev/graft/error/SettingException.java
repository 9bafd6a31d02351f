package dev.graft.error;

/**
 * A {@link GraftException} for a run setting out of its range, saying which {@link Setting} was at
 * fault so that a front end can point at the option that carried it (the command line maps each to
 * its flag) without reading the message.
 */
public final class SettingException extends GraftException {
  /** The run setting a failure is blamed on. */
  public enum Setting {
    /** Training epochs in all. */
    EPOCHS,
    /** Minibatch size, of training and of inference alike. */
    BATCH_SIZE,
    /** The strategy's main learning rate. */
    LEARNING_RATE,
    /** Early-stopping patience. */
    PATIENCE,
    /** Decoupled weight decay. */
    WEIGHT_DECAY,
    /** The head, against the strategy and caching (a logistic regression's needs). */
    HEAD
  }

  private final Setting setting;

  /**
   * @param setting the setting at fault
   * @param message what is wrong, naming the value
   */
  public SettingException(Setting setting, String message) {
    super(message);
    this.setting = setting;
  }

  /** The setting at fault. */
  public Setting setting() {
    return setting;
  }
}
