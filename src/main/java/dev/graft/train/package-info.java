/**
 * The training loop: {@link dev.graft.train.Trainer} runs a {@link
 * dev.graft.strategy.TransferGraph}'s phases over DataSetIterators, with validation every epoch,
 * early stopping that restores the best epoch's weights, cached frozen activations when the data
 * allow, {@link dev.graft.train.ClassWeights}, slf4j progress and {@link
 * dev.graft.train.TrainingListener} callbacks.
 */
package dev.graft.train;
