/**
 * Making the base's forward pass fast on a CPU: {@link dev.graft.perf.NativeTuning} picks the
 * native ND4J build for the processor and enables the oneDNN layer helpers where they help;
 * {@link dev.graft.perf.InferenceGraphs} rewrites a frozen network for inference (BatchNorm folded
 * into convolutions, activations fused). Measurements are in docs/performance.md.
 */
package dev.graft.perf;
