/**
 * Making the base's forward pass fast on a CPU: {@link dev.graft.perf.NativeTuning} picks the
 * native ND4J build for the processor and enables the oneDNN layer helpers where they help (the
 * inference rewrite of a frozen network, BatchNorm folded into convolutions, is {@code
 * dev.graft.graph.InferenceGraphs}). Measurements are in docs/performance.md.
 */
package dev.graft.perf;
