package dev.graft.train;

import dev.graft.metrics.History;
import dev.graft.metrics.Monitor;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything the rest of a training run depends on, as it stands at the end of an epoch: what a
 * checkpoint holds ({@link CheckpointFile}) and what a resumed run starts from. Mutable: the loop
 * updates it epoch by epoch.
 */
final class TrainingState {
  /** Epochs done, over all phases. */
  int epoch;

  /** Index in the plan of the phase of the last epoch done (-1: none yet). */
  int phaseIndex = -1;

  /** Epochs of that phase done. */
  int epochsInPhase;

  /** Early stopping: epochs of the current phase since the best. */
  int sinceBest;

  /** The best epoch so far (-1: none) and its monitored value. */
  int bestEpoch = -1;

  double bestValue = Double.NaN;

  /** Whether early stopping ended the run. */
  boolean stoppedEarly;

  /** Seconds of training so far (for the ETA). */
  double seconds;

  /** State of the generator shuffling cached activations. */
  long shuffleState;

  /** ND4J's generator (dropout) after the epoch: {@code rootState()}, {@code nodeState()}. */
  long nd4jRootState;

  long nd4jNodeState;

  /** The phase network's iteration and epoch counters (the schedule's position). */
  int iterationCount;

  int epochCount;

  /** The next epoch of the training iterator ({@code ImageBatches}): its shuffle and draws. */
  int trainIteratorEpoch = -1;

  /** Every epoch so far. */
  History history;

  /** Parameters of every layer that trains in some phase, as they are now. */
  Map<String, Map<String, INDArray>> current;

  /** The same at the best epoch (null without validation data). */
  Map<String, Map<String, INDArray>> best;

  /** The phase network's optimizer state (its updater's state view), or null. */
  INDArray updaterState;

  /** The best epoch's validation labels and probabilities (float32), or null. */
  INDArray bestLabels;

  INDArray bestProbabilities;

  TrainingState(Monitor monitor) {
    this.history = new History(monitor);
  }
}
