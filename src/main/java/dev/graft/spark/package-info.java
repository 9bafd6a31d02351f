/**
 * Apache Spark ML transformers: Graft on a cluster.
 *
 * <ul>
 *   <li>{@link dev.graft.spark.GraftFeaturizer}: images (binary content or paths) to pooled base
 *       features, the same numbers {@code graft featurize} writes;
 *   <li>{@link dev.graft.spark.GraftPredictor}: images to labels, probabilities and top-k with a
 *       {@code .graft} model, the same numbers {@code graft predict} prints;
 *   <li>{@link dev.graft.spark.SparkHeads}: a Spark ML {@code LogisticRegressionModel} trained on
 *       those features, exported as a normal {@code .graft} model (base + softmax head + labels +
 *       provenance) that the CLI and {@link dev.graft.model.Predictor} load.
 * </ul>
 *
 * <p>Spark is a {@code provided} dependency (Spark 3.5, Scala 2.12): it is on the class path of a
 * Spark job and nowhere else, and no other package of Graft refers to this one. Each executor JVM
 * loads a base or model once and shares it between its tasks; see {@code docs/spark.md}.
 */
package dev.graft.spark;
