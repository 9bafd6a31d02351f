package dev.graft.train;

import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.History;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * What a training run produced.
 *
 * @param network the trained network (images to probabilities), holding the weights of {@code
 *     restoredEpoch}
 * @param history every epoch
 * @param restoredEpoch the epoch whose weights the network holds (the best one with validation
 *     data, else the last)
 * @param stoppedEarly whether early stopping ended training
 * @param validation the validation report of {@code restoredEpoch}, or null without validation data
 * @param resumedFromEpoch epochs a checkpoint held when this run resumed from it (0: a fresh run)
 * @param notes settings the run chose itself, to record with the model (for example the L2 strength
 *     a logistic-regression head was fitted with), by key
 */
public record TrainingResult(
    ComputationGraph network,
    History history,
    int restoredEpoch,
    boolean stoppedEarly,
    ClassificationReport validation,
    int resumedFromEpoch,
    Map<String, String> notes) {

  /** Copies the notes. */
  public TrainingResult {
    notes = Map.copyOf(notes);
  }

  /** A result with no notes. */
  public TrainingResult(
      ComputationGraph network,
      History history,
      int restoredEpoch,
      boolean stoppedEarly,
      ClassificationReport validation,
      int resumedFromEpoch) {
    this(network, history, restoredEpoch, stoppedEarly, validation, resumedFromEpoch, Map.of());
  }
}
