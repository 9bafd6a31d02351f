package dev.graft.train;

import dev.graft.error.GraftException;
import dev.graft.head.SoftmaxRegression;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.FrozenPart;
import dev.graft.strategy.InMemoryActivationCache;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TransferGraph;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the phases of a {@link TransferGraph}: epochs over the training data, validation after each,
 * early stopping on the monitored metric, and at the end the best epoch's weights restored into
 * {@link TransferGraph#network()}.
 *
 * <p>When {@link TrainingConfig#cacheActivations()} is on, each phase computes the activations of
 * its frozen part once (training and validation sets) and every epoch trains only the trainable
 * part on them; otherwise the whole network runs every epoch (needed with augmentation).
 *
 * <pre>{@code
 * TrainingResult r = Trainer.train(transferGraph, trainBatches, validationBatches,
 *     TrainingConfig.defaults(labels).withPatience(3));
 * }</pre>
 *
 * <p>Reproducible on the CPU: the same seed, data and thread count give bit-identical weights (the
 * seed drives ND4J's generator for dropout and the shuffling of cached activations). A different
 * OpenMP thread count, DL4J's data parallelism ({@code ParallelWrapper}) and cuDNN can each change
 * the order of floating-point sums, and with it the last bits.
 *
 * <p>Why one class of this size: the loop and its three ways of feeding a phase (cached
 * activations, activations derived from a deeper phase's cache, the images themselves) share the
 * epoch bookkeeping; moving the per-phase runners out is the next step (docs/architecture.md,
 * "Known departures").
 */
public final class Trainer {
  private static final Logger log = LoggerFactory.getLogger(Trainer.class);

  private Trainer() {}

  /**
   * Trains {@code tg} in place.
   *
   * @param tg the assembled network and its phases
   * @param train training images and one-hot labels (reset before each pass)
   * @param validation validation images and labels, or null
   * @param cfg loop settings
   * @return the trained network with its history
   */
  public static TrainingResult train(
      TransferGraph tg, DataSetIterator train, DataSetIterator validation, TrainingConfig cfg) {
    History history = new History(cfg.monitor());
    List<String> everTrainable = new ArrayList<>(tg.everTrainable());
    int totalEpochs = tg.phases().stream().mapToInt(Phase::epochs).sum();
    Map<String, Map<String, INDArray>> best = null;
    ClassificationReport bestReport = null;
    ClassificationReport lastReport = null;
    double bestValue = Double.NaN;
    int bestEpoch = -1;
    int epoch = 0;
    boolean stoppedEarly = false;
    double secondsSoFar = 0;
    Random shuffle = new Random(cfg.seed());
    Map<String, String> notes = new java.util.LinkedHashMap<>();
    if (validation == null && cfg.patience() > 0) {
      log.warn("early stopping needs validation data; training all {} epochs", totalEpochs);
    }
    Nd4j.getRandom().setSeed(cfg.seed());

    // With several phases (fine-tune: head-only warm-up, then the unfrozen layers), the last
    // phase's boundary is the deepest: cache there first and derive the earlier phases' caches
    // from it, so that the base runs over each image once.
    SharedCaches shared = null;
    List<Phase> phases = tg.phases();
    Phase lastPhase = phases.get(phases.size() - 1);
    if (cfg.cacheActivations() && phases.stream().filter(p -> p.epochs() > 0).count() > 1) {
      Optional<FrozenPart> deepest = tg.frozenPart(lastPhase, cfg.cacheKey());
      if (deepest.isPresent()) {
        try {
          shared =
              new SharedCaches(
                  tg.boundary(lastPhase),
                  cfg.cacheFactory().build(deepest.get(), train),
                  validation == null ? null : cfg.cacheFactory().build(deepest.get(), validation));
        } catch (IOException e) {
          throw new UncheckedIOException("activation cache failed: " + e.getMessage(), e);
        }
      }
    }
    try {
      for (Phase phase : phases) {
        if (phase.epochs() == 0) {
          continue;
        }
        try (Runner runner =
            runner(tg, phase, phase == lastPhase, shared, train, validation, cfg, shuffle)) {
          for (TrainingListener l : cfg.listeners()) {
            l.onPhaseStart(phase, runner.cached());
          }
          int sinceBest = 0;
          for (int e = 0; e < phase.epochs(); e++) {
            epoch++;
            long t0 = System.nanoTime();
            double[] lossAcc = runner.trainEpoch();
            ClassificationReport report = runner.validate();
            double seconds = (System.nanoTime() - t0) / 1e9;
            secondsSoFar += seconds;
            double lr = runner.learningRate();
            EpochRecord rec =
                new EpochRecord(
                    epoch,
                    lossAcc[0],
                    lossAcc[1],
                    report == null ? Double.NaN : report.logLoss(),
                    report == null ? Double.NaN : report.accuracy(),
                    lr,
                    seconds);
            history.add(rec);
            lastReport = report;
            double eta = secondsSoFar / epoch * (totalEpochs - epoch);
            log.info(
                String.format(
                    Locale.ROOT,
                    "epoch %d/%d [%s] loss %.4f acc %.4f%s lr %.2e %.1fs ETA %.0fs",
                    epoch,
                    totalEpochs,
                    phase.name(),
                    rec.trainLoss(),
                    rec.trainAccuracy(),
                    report == null
                        ? ""
                        : String.format(
                            Locale.ROOT,
                            " val_loss %.4f val_acc %.4f",
                            rec.validationLoss(),
                            rec.validationAccuracy()),
                    lr,
                    seconds,
                    eta));
            for (TrainingListener l : cfg.listeners()) {
              l.onEpochEnd(rec, history);
            }
            double value = cfg.monitor().value(rec);
            if (bestEpoch < 0 || cfg.monitor().isBetter(value, bestValue)) {
              bestValue = value;
              bestEpoch = epoch;
              bestReport = report;
              sinceBest = 0;
              if (validation != null) {
                best = runner.snapshot(everTrainable);
              }
            } else {
              sinceBest++;
            }
            if (phase.earlyStopping()
                && cfg.patience() > 0
                && validation != null
                && sinceBest >= cfg.patience()) {
              log.info(
                  "early stopping after epoch {}: no better {} for {} epochs (best: epoch {})",
                  epoch,
                  cfg.monitor(),
                  sinceBest,
                  bestEpoch);
              stoppedEarly = true;
              break;
            }
          }
          tg.absorb(runner.net(), phase.trainable());
          notes.putAll(runner.notes());
        }
        if (stoppedEarly) {
          break;
        }
      }
    } finally {
      if (shared != null) {
        shared.close();
      }
    }
    int restored = epoch;
    ClassificationReport finalReport = lastReport;
    if (best != null) {
      tg.restore(best);
      restored = bestEpoch;
      finalReport = bestReport;
      if (bestEpoch != epoch) {
        log.info(
            "restored the weights of epoch {} (best {} {})",
            bestEpoch,
            cfg.monitor(),
            String.format(Locale.ROOT, "%.4f", bestValue));
      }
    }
    for (TrainingListener l : cfg.listeners()) {
      l.onTrainingEnd(history, restored, stoppedEarly);
    }
    return new TrainingResult(tg.network(), history, restored, stoppedEarly, finalReport, notes);
  }

  /** Caches at the deepest boundary, shared by the phases; closed when training ends. */
  private record SharedCaches(List<String> boundary, ActivationCache train, ActivationCache val)
      implements AutoCloseable {
    @Override
    public void close() {
      train.close();
      if (val != null) {
        val.close();
      }
    }
  }

  private static Runner runner(
      TransferGraph tg,
      Phase phase,
      boolean last,
      SharedCaches shared,
      DataSetIterator train,
      DataSetIterator validation,
      TrainingConfig cfg,
      Random shuffle) {
    if (shared != null) {
      if (last) {
        int steps = phase.epochs() * ceilDiv(shared.train().size(), cfg.batchSize());
        return new CachedRunner(
            tg.trainablePart(phase, steps), shared.train(), shared.val(), cfg, shuffle, false);
      }
      List<String> boundary = tg.boundary(phase);
      Optional<TransferGraph.Bridge> bridge = tg.bridge(shared.boundary(), boundary);
      if (bridge.isPresent()) {
        var b = bridge.get();
        ActivationCache t =
            InMemoryActivationCache.derive(
                shared.train(), b.graph(), b.inputIndices(), boundary, cfg.batchSize());
        ActivationCache v =
            shared.val() == null
                ? null
                : InMemoryActivationCache.derive(
                    shared.val(), b.graph(), b.inputIndices(), boundary, cfg.batchSize());
        int steps = phase.epochs() * ceilDiv(t.size(), cfg.batchSize());
        return new CachedRunner(tg.trainablePart(phase, steps), t, v, cfg, shuffle, true);
      }
    }
    Optional<FrozenPart> frozen = tg.frozenPart(phase, cfg.cacheKey());
    if (phase.convex()) {
      return ConvexRunner.build(tg, phase, frozen, train, validation, cfg, shuffle);
    }
    if (frozen.isEmpty()) {
      log.info(
          "phase {}: a trainable layer reads the images directly; nothing to cache", phase.name());
    } else if (cfg.cacheActivations()) {
      // Cache at the freeze boundary; the schedule length needs the example count, so the
      // trainable part is built after the cache has been filled.
      try {
        ActivationCache trainCache = cfg.cacheFactory().build(frozen.get(), train);
        ActivationCache valCache =
            validation == null ? null : cfg.cacheFactory().build(frozen.get(), validation);
        int steps = phase.epochs() * ceilDiv(trainCache.size(), cfg.batchSize());
        return new CachedRunner(
            tg.trainablePart(phase, steps), trainCache, valCache, cfg, shuffle, true);
      } catch (IOException e) {
        throw new UncheckedIOException("activation cache failed: " + e.getMessage(), e);
      }
    }
    int steps = 0;
    if (phase.warmupCosine()) {
      steps = phase.epochs() * cfg.batchesPerEpoch();
      if (steps == 0) {
        log.warn("phase {}: unknown number of batches; constant learning rate", phase.name());
      }
    }
    if (frozen.isPresent()) {
      // Not cached: the frozen part still runs apart, in inference mode, on every batch.
      // Training the whole graph instead would ask DL4J to backpropagate through frozen layers,
      // which stops at a residual addition ("Cannot do backward pass: errors not set").
      log.info(
          "phase {}: frozen activations not cached (augmentation or caching off); every"
              + " epoch runs the frozen part in inference mode, then trains the rest",
          phase.name());
      return new DirectRunner(tg.trainablePart(phase, steps), frozen.get(), train, validation, cfg);
    }
    return new DirectRunner(tg.phaseNetwork(phase, steps), null, train, validation, cfg);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** One phase's way of running epochs. */
  private abstract static class Runner implements AutoCloseable {
    final ComputationGraph net;
    final TrainingConfig cfg;
    final AccuracyProbe probe;

    Runner(ComputationGraph net, TrainingConfig cfg) {
      this.net = net;
      this.cfg = cfg;
      this.probe = new AccuracyProbe(net);
      net.addListeners(probe);
    }

    ComputationGraph net() {
      return net;
    }

    abstract boolean cached();

    /** What the run should record about this phase beyond its epochs (default none). */
    Map<String, String> notes() {
      return Map.of();
    }

    abstract double[] trainEpoch();

    abstract ClassificationReport validate();

    double learningRate() {
      Double lr = net.getLearningRate(TransferGraph.OUTPUT);
      return lr == null ? Double.NaN : lr;
    }

    /**
     * Parameters of {@code layers}: from this phase's network where it has them, else from the
     * final one.
     */
    Map<String, Map<String, INDArray>> snapshot(List<String> layers) {
      Map<String, Map<String, INDArray>> m = TransferGraph.snapshot(net, layers);
      return m;
    }

    @Override
    public void close() {}
  }

  static class CachedRunner extends Runner {
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
    double[] trainEpoch() {
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
        int[] idx = java.util.Arrays.copyOfRange(perm, start, Math.min(n, start + cfg.batchSize()));
        MultiDataSet mds = trainCache.batch(idx);
        probe.set(mds.getFeatures(), mds.getLabels(0));
        net.fit(mds);
        lossSum += net.score() * idx.length;
      }
      net.incrementEpochCount();
      return new double[] {lossSum / n, probe.accuracy()};
    }

    @Override
    ClassificationReport validate() {
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
      return report(cfg, labels, probs);
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

  /**
   * A convex phase: the softmax output fitted once, to convergence, on all cached features ({@link
   * SoftmaxRegression}); its one "epoch" is that fit.
   */
  private static final class ConvexRunner extends CachedRunner {
    private final TransferGraph tg;
    private final Map<String, String> notes = new java.util.LinkedHashMap<>();

    private ConvexRunner(
        TransferGraph tg,
        ComputationGraph net,
        ActivationCache train,
        ActivationCache val,
        TrainingConfig cfg,
        Random shuffle) {
      super(net, train, val, cfg, shuffle, true);
      this.tg = tg;
    }

    static ConvexRunner build(
        TransferGraph tg,
        Phase phase,
        Optional<FrozenPart> frozen,
        DataSetIterator train,
        DataSetIterator validation,
        TrainingConfig cfg,
        Random shuffle) {
      if (frozen.isEmpty() || !cfg.cacheActivations()) {
        throw new GraftException(
            "a logistic-regression head is fitted on cached features, and this run does not"
                + " cache them (augmentation or caching off): use a head trained by Adam"
                + " (Head.averagePooling())");
      }
      try {
        ActivationCache t = cfg.cacheFactory().build(frozen.get(), train);
        ActivationCache v =
            validation == null ? null : cfg.cacheFactory().build(frozen.get(), validation);
        return new ConvexRunner(tg, tg.trainablePart(phase, 0), t, v, cfg, shuffle);
      } catch (IOException e) {
        throw new UncheckedIOException("activation cache failed: " + e.getMessage(), e);
      }
    }

    @Override
    Map<String, String> notes() {
      return notes;
    }

    @Override
    double[] trainEpoch() {
      INDArray[] train = all(trainCache);
      INDArray[] val = valCache == null ? null : all(valCache);
      int classes = trainCache.numClasses();
      double l2 = tg.head().l2();
      SoftmaxRegression.Options opts =
          SoftmaxRegression.Options.defaults().withL2(l2).withSeed(cfg.seed());
      SoftmaxRegression.Selection s =
          SoftmaxRegression.select(
              train[0],
              train[1].argMax(1).toIntVector(),
              classes,
              tg.options().classWeights(),
              val == null ? null : val[0],
              val == null ? null : val[1].argMax(1).toIntVector(),
              opts);
      SoftmaxRegression.Fit f = s.fit();
      var out = net.getLayer(TransferGraph.OUTPUT);
      DataType dt = out.getParam("W").dataType();
      out.setParam("W", Nd4j.create(f.weights()).castTo(dt));
      out.setParam("b", Nd4j.create(new double[][] {f.bias()}).castTo(dt));
      notes.put("l2", String.format(Locale.ROOT, "%.3g", f.l2()));
      notes.put("l2Selection", s.method());
      notes.put("solverIterations", Integer.toString(f.iterations()));
      notes.put("solverConverged", Boolean.toString(f.converged()));
      notes.put("featureScaling", "standardised for the fit, folded into the weights");
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

  /** Trains on the iterators' images, passed through the frozen part first when there is one. */
  private static final class DirectRunner extends Runner {
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
    double[] trainEpoch() {
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
      }
      if (n == 0) {
        throw new GraftException("the training iterator produced no examples");
      }
      net.incrementEpochCount();
      return new double[] {lossSum / n, probe.accuracy()};
    }

    @Override
    ClassificationReport validate() {
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
      return report(cfg, labels, probs);
    }
  }

  private static ClassificationReport report(
      TrainingConfig cfg, List<INDArray> labels, List<INDArray> probs) {
    if (labels.isEmpty()) {
      return null;
    }
    INDArray l =
        Nd4j.concat(0, labels.stream().map(a -> a.castTo(DataType.FLOAT)).toArray(INDArray[]::new));
    INDArray p =
        Nd4j.concat(0, probs.stream().map(a -> a.castTo(DataType.FLOAT)).toArray(INDArray[]::new));
    List<String> names = cfg.labels();
    if (names.size() != l.size(1)) {
      names = new ArrayList<>();
      for (int i = 0; i < l.size(1); i++) {
        names.add(Integer.toString(i));
      }
    }
    return ClassificationReport.of(names, l, p);
  }

  /**
   * Counts correct predictions during training from the forward pass DL4J already does: DL4J does
   * not compute the output layer there, so the probe applies the output layer's weights to its
   * input (arg-max of the logits, before the step's update; dropout not applied).
   */
  static final class AccuracyProbe extends BaseTrainingListener {
    private final String outputInput;
    private final int outputInputIndex;
    private INDArray[] inputs;
    private INDArray labels;
    private long correct;
    private long seen;

    AccuracyProbe(ComputationGraph net) {
      var conf = net.getConfiguration();
      this.outputInput = conf.getVertexInputs().get(TransferGraph.OUTPUT).get(0);
      this.outputInputIndex = conf.getNetworkInputs().indexOf(outputInput);
      if (!(conf.getVertices().get(TransferGraph.OUTPUT) instanceof LayerVertex)) {
        throw new IllegalStateException("no output layer " + TransferGraph.OUTPUT);
      }
    }

    void reset() {
      correct = 0;
      seen = 0;
    }

    void set(INDArray[] in, INDArray y) {
      inputs = in;
      labels = y;
    }

    double accuracy() {
      return seen == 0 ? Double.NaN : (double) correct / seen;
    }

    @Override
    public void onForwardPass(Model model, Map<String, INDArray> activations) {
      INDArray x = activations.get(outputInput);
      if (x == null && outputInputIndex >= 0) {
        x = inputs[outputInputIndex];
      }
      if (x == null || labels == null) {
        return;
      }
      ComputationGraph g = (ComputationGraph) model;
      var out = g.getLayer(TransferGraph.OUTPUT);
      INDArray w = out.getParam("W");
      INDArray b = out.getParam("b");
      if (x.rank() > 2) {
        x = x.dup('c').reshape('c', x.size(0), x.length() / x.size(0));
      }
      INDArray logits = x.castTo(w.dataType()).mmul(w).addiRowVector(b);
      int[] p = logits.argMax(1).toIntVector();
      int[] y = labels.argMax(1).toIntVector();
      for (int i = 0; i < p.length; i++) {
        if (p[i] == y[i]) {
          correct++;
        }
      }
      seen += p.length;
    }
  }
}
