package dev.graft.train;

import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.History;
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
 */
public record TrainingResult(
    ComputationGraph network,
    History history,
    int restoredEpoch,
    boolean stoppedEarly,
    ClassificationReport validation,
    int resumedFromEpoch) {}
