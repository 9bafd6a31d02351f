package dev.graft.spark;

import dev.graft.base.Base;
import dev.graft.error.GraftException;
import dev.graft.head.Head;
import dev.graft.head.HeadLayers;
import dev.graft.model.ModelInfo;
import dev.graft.model.TransferModel;
import dev.graft.strategy.GraphOptions;
import dev.graft.strategy.Strategy;
import dev.graft.strategy.TransferGraph;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Head training on Spark, the distributed features strategy: a Spark ML {@link
 * LogisticRegressionModel} fitted on a {@link GraftFeaturizer}'s features becomes the softmax head
 * of a normal {@code .graft} model (base + global-average-pooling + softmax, labels, provenance),
 * which {@code graft predict}, {@code graft evaluate} and {@link dev.graft.model.Predictor} load
 * like any other: a model trained on a cluster is served anywhere.
 *
 * <pre>{@code
 * GraftFeaturizer featurizer = new GraftFeaturizer().setBase("resnet50").setInputCol("content");
 * StringIndexerModel indexer = new StringIndexer().setInputCol("label").setOutputCol("y").fit(images);
 * Dataset<Row> train = featurizer.transform(indexer.transform(images)).filter("featuresError is null");
 * LogisticRegressionModel lr = new LogisticRegression().setLabelCol("y").fit(train);
 * SparkHeads.fromLogisticRegression(featurizer, lr, List.of(indexer.labelsArray()[0]))
 *     .save(Path.of("products.graft"));
 * }</pre>
 *
 * <p>The exported network computes {@code softmax(W·features + b)} with Spark's coefficients and
 * intercepts, so its probabilities are Spark's (to float rounding). A binomial model (one
 * coefficient row) becomes a two-way softmax with the first class's row at zero: {@code softmax([0,
 * z]) = [1 - σ(z), σ(z)]}, Spark's own probabilities.
 */
public final class SparkHeads {
  private SparkHeads() {}

  /**
   * The {@code .graft} model made of the featurizer's base and {@code lr} as its head.
   *
   * @param featurizer the featurizer whose {@code features} column {@code lr} was fitted on (its
   *     base is loaded here, on the driver)
   * @param lr the fitted model
   * @param labels class names: {@code labels.get(i)} is the class Spark's label {@code i} stands
   *     for (for example {@code StringIndexerModel.labelsArray()[0]})
   * @throws GraftException if the labels, classes and feature widths do not agree (naming them)
   * @throws IOException if the base cannot be loaded
   */
  public static TransferModel fromLogisticRegression(
      GraftFeaturizer featurizer, LogisticRegressionModel lr, List<String> labels)
      throws IOException {
    if (labels == null || labels.size() != lr.numClasses()) {
      throw new GraftException(
          "the logistic regression has "
              + lr.numClasses()
              + " classes but "
              + (labels == null ? 0 : labels.size())
              + " labels were given: "
              + labels);
    }
    FeaturizerSettings settings = featurizer.settings();
    Base base = featurizer.loadBase();
    int k = labels.size();
    TransferGraph tg =
        TransferGraph.assemble(
            base, Head.averagePooling(), Strategy.features(), GraphOptions.of(k));
    ComputationGraph net = tg.network();
    Layer out = net.getLayer(HeadLayers.OUTPUT);
    INDArray w = out.getParam("W"); // [F, K]
    INDArray b = out.getParam("b"); // [1, K]
    if (w.size(0) != lr.numFeatures()) {
      throw new GraftException(
          "the logistic regression was fitted on "
              + lr.numFeatures()
              + " features but base "
              + base.id()
              + " cut at "
              + base.featureLayer()
              + " gives "
              + w.size(0)
              + ": fit it on this featurizer's output column");
    }
    int f = (int) w.size(0);
    double[][] weights = new double[f][k];
    double[] bias = new double[k];
    Matrix coef = lr.coefficientMatrix();
    Vector intercept = lr.interceptVector();
    if (coef.numRows() == 1 && k == 2) { // binomial: class 1 against class 0
      for (int j = 0; j < f; j++) {
        weights[j][1] = coef.apply(0, j);
      }
      bias[1] = intercept.apply(0);
    } else {
      for (int c = 0; c < k; c++) {
        for (int j = 0; j < f; j++) {
          weights[j][c] = coef.apply(c, j);
        }
        bias[c] = intercept.apply(c);
      }
    }
    w.assign(Nd4j.create(weights).castTo(w.dataType()));
    b.assign(Nd4j.create(bias, new long[] {1, k}).castTo(b.dataType()));

    Map<String, String> trainer = new LinkedHashMap<>();
    trainer.put("trainer", "spark.ml.LogisticRegression");
    trainer.put("sparkVersion", org.apache.spark.package$.MODULE$.SPARK_VERSION());
    trainer.put("family", lr.getFamily());
    trainer.put("regParam", Double.toString(lr.getRegParam()));
    trainer.put("elasticNetParam", Double.toString(lr.getElasticNetParam()));
    trainer.put("maxIter", Integer.toString(lr.getMaxIter()));
    trainer.put("standardization", Boolean.toString(lr.getStandardization()));
    trainer.put("head", Head.averagePooling().describe());
    trainer.put("cut", base.featureLayer());
    trainer.put("seed", Long.toString(settings.seed()));
    Map<String, Double> metrics = new LinkedHashMap<>();
    if (lr.hasSummary()) {
      metrics.put("trainAccuracy", lr.summary().accuracy());
      metrics.put("trainIterations", (double) lr.summary().totalIterations());
    }
    ModelInfo info =
        new ModelInfo(
            null,
            base.id(),
            base.weightsKey(),
            labels,
            base.preprocessing(),
            base.inputSize(),
            settings.resizeMode(),
            Strategy.features().name(),
            trainer,
            metrics,
            null,
            System.currentTimeMillis());
    return new TransferModel(net, info);
  }
}
