/**
 * The three transfer-learning strategies and the graph surgery behind them.
 *
 * <ul>
 *   <li>{@link dev.graft.strategy.FrozenBase}: every base layer frozen, only the head trains.
 *   <li>{@link dev.graft.strategy.FineTune}: the last layers or blocks of the base train at a low
 *       rate, the head faster, after head-only warm-up epochs.
 *   <li>{@link dev.graft.strategy.FeatureExtraction}: pooled features of the frozen base computed
 *       once per image, a small head trained on them.
 * </ul>
 *
 * <p>{@link dev.graft.strategy.TransferGraph#assemble} turns a base graph, a cut point, a head and
 * a strategy into one DL4J {@code ComputationGraph} (base up to the cut, then the head) plus the
 * training {@link dev.graft.strategy.Phase}s the strategy plans. {@link
 * dev.graft.strategy.TransferGraph#plan} makes them a {@link dev.graft.strategy.TrainingPlan}, what
 * the trainer runs: for each phase how it is fed (the whole network on images; a frozen part run on
 * every batch; a frozen part whose activations an {@link dev.graft.strategy.ActivationCache}
 * computes once; or a cache derived from a deeper phase's) and the network it trains.
 *
 * <p>Two DL4J 1.0.0-M2.1 traps are handled here: every trainable layer gets its own {@code
 * IUpdater} instance (DL4J's {@code FineTuneConfiguration} shares one, so changing one layer's
 * learning rate changed all), and frozen BatchNorm runs in inference mode through {@code
 * FrozenLayer} below the trainable part, and through {@link dev.graft.graph.InferenceBatchNorm}
 * inside it ({@code FrozenLayerWithBackprop} around BatchNorm fails in backprop).
 */
package dev.graft.strategy;
