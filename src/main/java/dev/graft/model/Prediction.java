package dev.graft.model;

/**
 * One entry of a top-k answer: a class label, its index in the model's label list, and the
 * probability the model gives it.
 *
 * @param label the class name (an image folder's name at training time)
 * @param index the class index in {@link TransferModel#labels()}
 * @param probability the softmax probability, in [0, 1]
 */
public record Prediction(String label, int index, double probability) {
  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT, "%s (%.4f)", label, probability);
  }
}
