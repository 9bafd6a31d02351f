/**
 * The trained model and everything needed to use it: {@link dev.graft.model.TransferModel} (the
 * network plus its {@link dev.graft.model.ModelInfo} provenance), the {@code .graft} file format
 * ({@link dev.graft.model.ModelFile}), and the thread-safe {@link dev.graft.model.Predictor} that
 * turns images into top-k {@link dev.graft.model.Prediction}s with the same preprocessing code path
 * as training.
 *
 * <pre>{@code
 * TransferModel model = TransferModel.load(Path.of("flowers.graft"));
 * try (Predictor p = model.predictor()) {
 *   List<Prediction> top3 = p.predict(Path.of("rose.jpg"), 3);
 * }
 * }</pre>
 */
package dev.graft.model;
