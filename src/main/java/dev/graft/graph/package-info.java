/**
 * Every rewrite of a DL4J graph, one class per job:
 *
 * <ul>
 *   <li>{@link dev.graft.graph.Topology}: vertex order (the one topological sort), ancestors,
 *       descendants;
 *   <li>{@link dev.graft.graph.Layers}: looking through frozen-layer wrappers;
 *   <li>{@link dev.graft.graph.Truncation}: a graph cut at a vertex;
 *   <li>{@link dev.graft.graph.Rebuild}: a sub-graph with some layers trainable, each at its own
 *       updater, the rest frozen ({@link dev.graft.graph.InferenceBatchNorm} for BatchNorm that
 *       gradients must cross); for training it also swaps in the faster backward passes and the
 *       optimizer loop (TrainingConvolution and its TrainingConvolutionHelper, NoGradientInput,
 *       TrainingDepthwiseConvolution, OnePassGlobalPooling, TrainingUpdater, ChunkedAdam,
 *       TrainingReLU6) that never reach a model file;
 *   <li>{@link dev.graft.graph.ParameterTransfer}: pretrained weights fitted onto a graph,
 *       parameters copied, snapshots;
 *   <li>{@link dev.graft.graph.InferenceGraphs}: a frozen graph rewritten for fast inference
 *       (BatchNorm folded, activations fused, residual sums fused with their activation,
 *       convolutions on NHWC through {@link dev.graft.graph.NhwcConvolution} and {@link
 *       dev.graft.graph.NhwcDepthwiseConvolution}, zero padding folded into them ({@link
 *       dev.graft.graph.NhwcGeometry}), with a {@link dev.graft.graph.LayoutVertex} where the
 *       layout changes);
 *   <li>{@link dev.graft.graph.GraphWorkspaces}: every graph these build sizes its DL4J workspaces
 *       in its first pass, not its fifth.
 * </ul>
 *
 * <p>The package knows DL4J and nothing of bases, heads or strategies: those call it.
 */
package dev.graft.graph;
