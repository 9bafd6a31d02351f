/**
 * The training loop: {@link dev.graft.train.Trainer} runs a {@link dev.graft.strategy.TrainingPlan}
 * over DataSetIterators (each phase fed as the plan says: cached, derived or direct), with
 * validation every epoch, early stopping that restores the best epoch's weights, {@link
 * dev.graft.train.ClassWeights}, slf4j progress and {@link dev.graft.train.TrainingListener}
 * callbacks. With {@link dev.graft.train.Checkpointing} it keeps a checkpoint at each epoch's end
 * and resumes from it to the uninterrupted result; a {@link dev.graft.train.StopSignal} stops it at
 * a safe point.
 */
package dev.graft.train;
