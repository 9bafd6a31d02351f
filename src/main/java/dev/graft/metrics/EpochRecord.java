package dev.graft.metrics;

/**
 * What one training epoch achieved. Losses are mean cross-entropy per example; accuracies are
 * fractions in [0, 1]. Validation values are {@link Double#NaN} when there was no validation set.
 *
 * @param epoch 1-based epoch number, counted across all training phases
 * @param trainLoss mean training loss over the epoch's minibatches (with dropout and class weights)
 * @param trainAccuracy fraction of training examples classified right during the epoch
 * @param validationLoss mean cross-entropy on the validation set at the end of the epoch
 * @param validationAccuracy validation accuracy at the end of the epoch
 * @param learningRate the learning rate of the fastest-learning layer at the end of the epoch
 * @param seconds wall-clock seconds the epoch took, validation included
 */
public record EpochRecord(
    int epoch,
    double trainLoss,
    double trainAccuracy,
    double validationLoss,
    double validationAccuracy,
    double learningRate,
    double seconds) {

  /** Whether this record carries validation metrics. */
  public boolean hasValidation() {
    return !Double.isNaN(validationLoss) || !Double.isNaN(validationAccuracy);
  }
}
