/**
 * The training loop: {@link dev.graft.train.Trainer} runs a {@link
 * dev.graft.strategy.TransferGraph}'s phases over DataSetIterators, with validation every epoch,
 * early stopping that restores the best epoch's weights, cached frozen activations when the data
 * allow, {@link dev.graft.train.ClassWeights}, slf4j progress and {@link
 * dev.graft.train.TrainingListener} callbacks. With {@link dev.graft.train.Checkpointing} it keeps
 * a checkpoint at each epoch's end and resumes from it to the uninterrupted result; a {@link
 * dev.graft.train.StopSignal} stops it at a safe point.
 */
package dev.graft.train;
