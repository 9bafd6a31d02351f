/**
 * Measuring a classifier: {@link dev.graft.metrics.ClassificationReport} (accuracy, top-k,
 * per-class precision/recall/F1, macro-F1, confusion matrix, log loss) and the per-epoch training
 * record, {@link dev.graft.metrics.History} of {@link dev.graft.metrics.EpochRecord}s, with the
 * {@link dev.graft.metrics.Monitor} that decides which epoch was best.
 *
 * <p>Values only: nothing here trains or touches a network.
 */
package dev.graft.metrics;
