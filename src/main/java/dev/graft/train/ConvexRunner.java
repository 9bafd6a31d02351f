package dev.graft.train;

import dev.graft.head.SoftmaxRegression;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.Phase;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A convex phase ({@link Phase#convex()}): the softmax output fitted once, to convergence, on all
 * cached features by {@link SoftmaxRegression}; its one "epoch" is that fit. Validation is the
 * cached runner's.
 */
final class ConvexRunner extends CachedRunner {
  private final double l2;
  private final double[] classWeights;
  private final Map<String, String> notes = new LinkedHashMap<>();

  ConvexRunner(
      double l2,
      double[] classWeights,
      ComputationGraph net,
      ActivationCache train,
      ActivationCache val,
      TrainingConfig cfg,
      Random shuffle) {
    super(net, train, val, cfg, shuffle, true);
    this.l2 = l2;
    this.classWeights = classWeights;
  }

  @Override
  Map<String, String> notes() {
    return notes;
  }

  @Override
  double[] trainEpoch(Runnable afterBatch) {
    INDArray[] train = all(trainCache);
    INDArray[] val = valCache == null ? null : all(valCache);
    SoftmaxRegression.Options opts =
        SoftmaxRegression.Options.defaults().withL2(l2).withSeed(cfg.seed());
    SoftmaxRegression.Selection s =
        SoftmaxRegression.select(
            train[0],
            train[1].argMax(1).toIntVector(),
            trainCache.numClasses(),
            classWeights,
            val == null ? null : val[0],
            val == null ? null : val[1].argMax(1).toIntVector(),
            opts);
    SoftmaxRegression.Fit f = s.fit();
    var out = net.getLayer(outputLayer(net));
    DataType dt = out.getParam("W").dataType();
    out.setParam("W", Nd4j.create(f.weights()).castTo(dt));
    out.setParam("b", Nd4j.create(new double[][] {f.bias()}).castTo(dt));
    notes.put("l2", String.format(Locale.ROOT, "%.3g", f.l2()));
    notes.put("l2Selection", s.method());
    // 0 when the search had already fitted all rows at this strength: say so, not "0"
    notes.put(
        "solverIterations",
        f.iterations() == 0
            ? "0 after the search (its fit on all training rows had converged)"
            : Integer.toString(f.iterations()));
    notes.put("solverConverged", Boolean.toString(f.converged()));
    notes.put("featureScaling", "centred, one common scale, folded into the weights");
    INDArray logits =
        train[0]
            .castTo(DataType.DOUBLE)
            .mmul(Nd4j.create(f.weights()))
            .addiRowVector(Nd4j.create(f.bias()));
    int[] p = logits.argMax(1).toIntVector();
    int[] y = train[1].argMax(1).toIntVector();
    int correct = 0;
    for (int i = 0; i < p.length; i++) {
      correct += p[i] == y[i] ? 1 : 0;
    }
    net.incrementEpochCount();
    afterBatch.run();
    return new double[] {f.trainLoss(), (double) correct / p.length};
  }

  /** Every cached example: {features as [N, F], one-hot labels}. */
  private static INDArray[] all(ActivationCache cache) {
    int[] idx = new int[cache.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    MultiDataSet mds = cache.batch(idx);
    INDArray x = mds.getFeatures(0);
    if (x.rank() > 2) {
      x = x.dup('c').reshape('c', x.size(0), x.length() / x.size(0));
    }
    return new INDArray[] {x, mds.getLabels(0)};
  }
}
