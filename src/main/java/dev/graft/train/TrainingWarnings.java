package dev.graft.train;

import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.metrics.TrainingHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TrainingListener} that logs one WARN line when training looks stuck after the first
 * epochs ({@link TrainingHealth}): the loss near a saturated softmax's, or the accuracy at chance,
 * with the likely causes. {@code TransferBuilder} adds it to every run.
 *
 * <pre>{@code
 * Graft.base(base).listener(new TrainingWarnings(labels.size())).fit(train, validation);
 * }</pre>
 */
public final class TrainingWarnings implements TrainingListener {
  private static final Logger log = LoggerFactory.getLogger(TrainingWarnings.class);

  private final int classes;

  /**
   * A listener for a run over {@code classes} classes.
   *
   * @param classes the number of classes (chance accuracy is 1 / classes)
   */
  public TrainingWarnings(int classes) {
    this.classes = classes;
  }

  /**
   * At the end of epoch {@value TrainingHealth#CHECKED_EPOCH}, logs the warning if there is one.
   */
  @Override
  public void onEpochEnd(EpochRecord record, History history) {
    if (record.epoch() == TrainingHealth.CHECKED_EPOCH) {
      TrainingHealth.warning(history.epochs(), classes).ifPresent(log::warn);
    }
  }
}
