package dev.graft.train;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs one line per epoch: phase, losses, accuracies, learning rate, time and time to go. */
final class ProgressLog implements EpochHook {
  private static final Logger log = LoggerFactory.getLogger(Trainer.class);
  private final int totalEpochs;

  ProgressLog(int totalEpochs) {
    this.totalEpochs = totalEpochs;
  }

  @Override
  public void onEpochEnd(TrainingState st, EpochEnd end) {
    if (!log.isInfoEnabled()) {
      return;
    }
    var rec = end.record();
    double eta = st.seconds / st.epoch * (totalEpochs - st.epoch);
    log.info(
        String.format(
            Locale.ROOT,
            "epoch %d/%d [%s] loss %.4f acc %.4f%s %s %.1fs ETA %.0fs",
            rec.epoch(),
            totalEpochs,
            end.phase().name(),
            rec.trainLoss(),
            rec.trainAccuracy(),
            rec.hasValidation()
                ? String.format(
                    Locale.ROOT,
                    " val_loss %.4f val_acc %.4f",
                    rec.validationLoss(),
                    rec.validationAccuracy())
                : "",
            EpochLine.rates(end.phase(), rec.learningRate()),
            rec.seconds(),
            eta));
  }
}
