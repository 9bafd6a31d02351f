package dev.graft.train;

import dev.graft.error.GraftException;
import dev.graft.strategy.FrozenPart;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/** Trains on the iterators' images, passed through the frozen part first when there is one. */
final class DirectRunner extends PhaseRunner {
  private final FrozenPart frozen;
  private final DataSetIterator train;
  private final DataSetIterator validation;

  DirectRunner(
      ComputationGraph net,
      FrozenPart frozen,
      DataSetIterator train,
      DataSetIterator validation,
      TrainingConfig cfg) {
    super(net, cfg);
    this.frozen = frozen;
    this.train = train;
    this.validation = validation;
  }

  /** The trained network's inputs for a batch of images. */
  private INDArray[] inputs(INDArray images) {
    return frozen == null ? new INDArray[] {images} : frozen.activations(images);
  }

  @Override
  boolean cached() {
    return false;
  }

  @Override
  double[] trainEpoch(Runnable afterBatch) {
    if (train.resetSupported()) {
      train.reset();
    }
    double lossSum = 0;
    long n = 0;
    probe.reset();
    while (train.hasNext()) {
      DataSet ds = train.next();
      INDArray[] in = inputs(ds.getFeatures());
      probe.set(in, ds.getLabels());
      net.fit(new org.nd4j.linalg.dataset.MultiDataSet(in, new INDArray[] {ds.getLabels()}));
      long b = ds.getFeatures().size(0);
      lossSum += net.score() * b;
      n += b;
      afterBatch.run();
    }
    if (n == 0) {
      throw new GraftException("the training iterator produced no examples");
    }
    net.incrementEpochCount();
    return new double[] {lossSum / n, probe.accuracy()};
  }

  @Override
  Validation validate() {
    if (validation == null) {
      return null;
    }
    if (validation.resetSupported()) {
      validation.reset();
    }
    List<INDArray> probs = new ArrayList<>();
    List<INDArray> labels = new ArrayList<>();
    while (validation.hasNext()) {
      DataSet ds = validation.next();
      probs.add(net.output(false, inputs(ds.getFeatures()))[0]);
      labels.add(ds.getLabels());
    }
    return Validation.of(cfg, labels, probs);
  }
}
