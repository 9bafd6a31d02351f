package dev.graft.base;

import dev.graft.error.GraftException;

/**
 * A {@link GraftException} from {@link BaseBuilder#load()} that says which of the builder's
 * settings was at fault, so that a front end can point at the option that carried it (the command
 * line maps each {@link Setting} to its flag) without reading the message.
 */
public final class BaseSettingException extends GraftException {
  /** The builder setting a failure is blamed on. */
  public enum Setting {
    /** The base itself: the catalog id, or the file or graph of a base of your own. */
    BASE,
    /** {@link BaseBuilder#weights(Weights)}: the weight source and its checksum. */
    WEIGHTS,
    /** {@link BaseBuilder#inputSize(int)}. */
    INPUT_SIZE,
    /** {@link BaseBuilder#preprocessing(Preprocessing)}. */
    PREPROCESSING,
    /** {@link BaseBuilder#cut(String)}. */
    CUT
  }

  private final Setting setting;

  /**
   * @param setting the setting at fault
   * @param cause the failure, whose message (naming the value) this exception keeps
   */
  public BaseSettingException(Setting setting, GraftException cause) {
    super(cause.getMessage(), cause);
    this.setting = setting;
  }

  /** The setting at fault. */
  public Setting setting() {
    return setting;
  }
}
