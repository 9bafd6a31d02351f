package dev.graft.train;

import dev.graft.strategy.ActivationCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/** Trains a phase on cached boundary activations, shuffled every epoch by the loop's generator. */
class CachedRunner extends PhaseRunner {
  final ActivationCache trainCache;
  final ActivationCache valCache;
  private final Random shuffle;
  private final boolean ownsCaches;

  CachedRunner(
      ComputationGraph net,
      ActivationCache train,
      ActivationCache val,
      TrainingConfig cfg,
      Random shuffle,
      boolean ownsCaches) {
    super(net, cfg);
    this.trainCache = train;
    this.valCache = val;
    this.shuffle = shuffle;
    this.ownsCaches = ownsCaches;
  }

  @Override
  boolean cached() {
    return true;
  }

  @Override
  double[] trainEpoch(Runnable afterBatch) {
    int n = trainCache.size();
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = shuffle.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    double lossSum = 0;
    probe.reset();
    for (int start = 0; start < n; start += cfg.batchSize()) {
      int[] idx = Arrays.copyOfRange(perm, start, Math.min(n, start + cfg.batchSize()));
      MultiDataSet mds = trainCache.batch(idx);
      probe.set(mds.getFeatures(), mds.getLabels(0));
      net.fit(mds);
      lossSum += net.score() * idx.length;
      afterBatch.run();
    }
    net.incrementEpochCount();
    return new double[] {lossSum / n, probe.accuracy()};
  }

  @Override
  Validation validate() {
    if (valCache == null) {
      return null;
    }
    int n = valCache.size();
    List<INDArray> probs = new ArrayList<>();
    List<INDArray> labels = new ArrayList<>();
    for (int start = 0; start < n; start += cfg.batchSize()) {
      int end = Math.min(n, start + cfg.batchSize());
      int[] idx = new int[end - start];
      for (int i = 0; i < idx.length; i++) {
        idx[i] = start + i;
      }
      MultiDataSet mds = valCache.batch(idx);
      probs.add(net.output(false, mds.getFeatures())[0]);
      labels.add(mds.getLabels(0));
    }
    return Validation.of(cfg, labels, probs);
  }

  @Override
  public void close() {
    if (!ownsCaches) {
      return;
    }
    trainCache.close();
    if (valCache != null) {
      valCache.close();
    }
  }
}
