/**
 * Graft's own DL4J network building blocks, used inside catalog graphs (EfficientNetB0's
 * squeeze-and-excitation: {@link dev.graft.nn.ChannelMultiplyVertex}). Model files name these
 * classes in their configuration JSON, so they keep their package. Rewriting graphs is {@code
 * dev.graft.graph}'s job, not this package's.
 */
package dev.graft.nn;
