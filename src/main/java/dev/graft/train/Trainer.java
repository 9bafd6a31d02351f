package dev.graft.train;

import dev.graft.data.ImageBatches;
import dev.graft.error.GraftException;
import dev.graft.graph.ParameterTransfer;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TrainingPlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link TrainingPlan}: epochs over the training data, validation after each, early stopping
 * on the monitored metric, and at the end the best epoch's weights restored into {@link
 * TrainingPlan#network()}. Which layers train at which rates, and how each phase is fed (cached
 * activations, activations derived from a deeper phase's cache, or the images), the plan says; the
 * trainer reads no graph and chooses none of it.
 *
 * <pre>{@code
 * TrainingResult r = Trainer.train(transferGraph.plan(true, cacheKey), trainBatches,
 *     validationBatches, TrainingConfig.defaults(labels).withPatience(3));
 * }</pre>
 *
 * <p>Epochs are counted over the whole run: a fine-tune plan of 2 warm-up and 8 fine-tuning epochs
 * reports epochs 1 to 10, and the best epoch is one of them.
 *
 * <p>Reproducible on the CPU: the same seed, data and thread count give bit-identical weights (the
 * seed drives ND4J's generator for dropout and the shuffling of cached activations). A different
 * OpenMP thread count, DL4J's data parallelism ({@code ParallelWrapper}) and cuDNN can each change
 * the order of floating-point sums, and with it the last bits.
 *
 * <p>Checkpoints ({@link TrainingConfig#checkpointing()}): at the end of every epoch the loop
 * writes a {@link TrainingState}, everything the rest of the run depends on (parameters and
 * optimizer state, both generators, the training iterator's epoch, the schedule's position, the
 * history, the best epoch's weights and the early-stopping counter). A run resumed from it finishes
 * with the parameters an uninterrupted run ends with, bit for bit.
 */
public final class Trainer {
  private static final Logger log = LoggerFactory.getLogger(Trainer.class);

  private final TrainingPlan plan;
  private final DataSetIterator train;
  private final DataSetIterator validation;
  private final TrainingConfig cfg;
  private final List<String> everTrainable;
  private final int totalEpochs;
  private final ReplayableRandom shuffle;
  private final Checkpointing checkpointing;
  private TrainingState st;
  private final Map<String, String> notes = new java.util.LinkedHashMap<>();
  private int checkpointedEpochs;

  private Trainer(
      TrainingPlan plan, DataSetIterator train, DataSetIterator validation, TrainingConfig cfg) {
    this.plan = plan;
    this.train = train;
    this.validation = validation;
    this.cfg = cfg;
    this.everTrainable = new ArrayList<>(plan.everTrainable());
    this.totalEpochs = plan.totalEpochs();
    this.shuffle = new ReplayableRandom(cfg.seed());
    this.checkpointing = cfg.checkpointing();
    this.st = new TrainingState(cfg.monitor());
  }

  /**
   * Trains the plan's network in place.
   *
   * @param plan the network and its phases, each with how it is fed
   * @param train training images and one-hot labels (reset before each pass)
   * @param validation validation images and labels, or null
   * @param cfg loop settings
   * @return the trained network with its history
   * @throws TrainingStoppedException when {@link TrainingConfig#stop()} asked the loop to stop
   * @throws GraftException when a checkpoint to resume from is damaged or was made with other
   *     settings or data
   */
  public static TrainingResult train(
      TrainingPlan plan, DataSetIterator train, DataSetIterator validation, TrainingConfig cfg) {
    return new Trainer(plan, train, validation, cfg).run();
  }

  private TrainingResult run() {
    if (validation == null && cfg.patience() > 0) {
      log.warn("early stopping needs validation data; training all {} epochs", totalEpochs);
    }
    Nd4j.getRandom().setSeed(cfg.seed());
    int resumedFrom = checkpointing != null && checkpointing.resume() ? resume() : 0;
    if (checkpointing != null
        && !checkpointing.resume()
        && CheckpointFile.exists(checkpointing.file())) {
      log.info("starting afresh: the checkpoint {} will be overwritten", checkpointing.file());
    }
    List<TrainingPlan.Step> steps = plan.steps();
    boolean remaining = !st.stoppedEarly && st.epoch < totalEpochs;
    try (PhaseRunner.SharedCaches shared =
        remaining ? PhaseRunner.SharedCaches.build(plan, train, validation, cfg) : null) {
      for (int p = 0; p < steps.size() && remaining && !st.stoppedEarly; p++) {
        TrainingPlan.Step step = steps.get(p);
        int start = p == st.phaseIndex ? st.epochsInPhase : 0;
        if (step.phase().epochs() == 0 || p < st.phaseIndex || start >= step.phase().epochs()) {
          continue;
        }
        runPhase(p, step, start, shared);
      }
    }
    ClassificationReport finalReport = null;
    int restored = st.epoch;
    if (st.best != null) {
      ParameterTransfer.restore(plan.network(), st.best);
      restored = st.bestEpoch;
      if (st.bestLabels != null) {
        finalReport = PhaseRunner.report(cfg, st.bestLabels, st.bestProbabilities);
      }
      if (st.bestEpoch != st.epoch) {
        log.info(
            "restored the weights of epoch {} (best {} {})",
            st.bestEpoch,
            cfg.monitor(),
            String.format(Locale.ROOT, "%.4f", st.bestValue));
      }
    }
    for (TrainingListener l : cfg.listeners()) {
      l.onTrainingEnd(st.history, restored, st.stoppedEarly);
    }
    return new TrainingResult(
        plan.network(), st.history, restored, st.stoppedEarly, finalReport, resumedFrom, notes);
  }

  /** Loads the checkpoint into the state and the network; returns the epochs it holds. */
  private int resume() {
    Path file = checkpointing.file();
    if (!CheckpointFile.exists(file)) {
      log.info("no checkpoint at {}: starting afresh", file);
      return 0;
    }
    CheckpointFile.Contents c;
    try {
      c = CheckpointFile.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
    }
    checkpointing
        .fingerprint()
        .differenceFrom(c.fingerprint())
        .ifPresent(
            d -> {
              throw new GraftException(
                  "checkpoint "
                      + file
                      + " was made with other settings or data: "
                      + d
                      + " (run with the same settings and data, or delete it to start afresh)");
            });
    st = c.state();
    if (st.epoch > totalEpochs
        || !st.current.keySet().containsAll(everTrainable)
        || st.phaseIndex >= plan.steps().size()) {
      throw new GraftException(
          "checkpoint " + file + " does not fit this network and plan (delete it to start afresh)");
    }
    ParameterTransfer.restore(plan.network(), st.current);
    shuffle.restore(st.shuffleState);
    if (train instanceof ImageBatches ib && st.trainIteratorEpoch >= 0) {
      ib.seekEpoch(st.trainIteratorEpoch);
    }
    checkpointedEpochs = st.epoch;
    log.info("resuming from checkpoint {}: {} of {} epochs done", file, st.epoch, totalEpochs);
    for (TrainingListener l : cfg.listeners()) {
      l.onResume(st.epoch, st.history);
    }
    return st.epoch;
  }

  private void runPhase(int p, TrainingPlan.Step step, int start, PhaseRunner.SharedCaches shared) {
    Phase phase = step.phase();
    try (PhaseRunner runner = PhaseRunner.create(step, shared, train, validation, cfg, shuffle)) {
      for (TrainingListener l : cfg.listeners()) {
        l.onPhaseStart(phase, runner.cached());
      }
      if (start > 0) {
        continueFrom(runner.net());
      } else {
        st.sinceBest = 0;
      }
      for (int e = start; e < phase.epochs(); e++) {
        int epoch = st.epoch + 1;
        int[] batch = {0};
        long t0 = System.nanoTime();
        double[] lossAcc =
            runner.trainEpoch(
                () -> {
                  batch[0]++;
                  TestSeam.reached("batch:" + epoch + ":" + batch[0]);
                  if (cfg.stop() != null) {
                    cfg.stop().check(checkpointedEpochs, checkpointFile());
                  }
                });
        PhaseRunner.Validation v = runner.validate();
        double seconds = (System.nanoTime() - t0) / 1e9;
        EpochRecord rec = record(epoch, lossAcc, v, runner.learningRate(), seconds);
        st.epoch = epoch;
        st.seconds += seconds;
        st.history.add(rec);
        log(phase, rec);
        for (TrainingListener l : cfg.listeners()) {
          l.onEpochEnd(rec, st.history);
        }
        double value = cfg.monitor().value(rec);
        if (st.bestEpoch < 0 || cfg.monitor().isBetter(value, st.bestValue)) {
          st.bestValue = value;
          st.bestEpoch = epoch;
          st.sinceBest = 0;
          if (validation != null) {
            st.best = snapshot(runner.net(), phase);
            st.bestLabels = v == null ? null : v.labels();
            st.bestProbabilities = v == null ? null : v.probabilities();
          }
        } else {
          st.sinceBest++;
        }
        if (phase.earlyStopping()
            && cfg.patience() > 0
            && validation != null
            && st.sinceBest >= cfg.patience()) {
          log.info(
              "early stopping after epoch {}: no better {} for {} epochs (best: epoch {})",
              epoch,
              cfg.monitor(),
              st.sinceBest,
              st.bestEpoch);
          st.stoppedEarly = true;
        }
        st.phaseIndex = p;
        st.epochsInPhase = e + 1;
        checkpoint(runner.net(), phase);
        if (st.stoppedEarly) {
          break;
        }
      }
      ParameterTransfer.copy(runner.net(), plan.network(), new LinkedHashSet<>(phase.trainable()));
      notes.putAll(runner.notes());
    }
  }

  /** Puts the phase network where the checkpoint left it: optimizer, schedule, generator. */
  private void continueFrom(ComputationGraph net) {
    if (st.updaterState != null) {
      INDArray view = net.getUpdater().getStateViewArray();
      if (view == null || view.length() != st.updaterState.length()) {
        throw new GraftException(
            "checkpoint "
                + checkpointing.file()
                + " holds optimizer state of "
                + st.updaterState.length()
                + " values, this phase has "
                + (view == null ? 0 : view.length())
                + " (delete it to start afresh)");
      }
      view.assign(st.updaterState.reshape(view.shape()));
    }
    net.getConfiguration().setIterationCount(st.iterationCount);
    net.getConfiguration().setEpochCount(st.epochCount);
    Nd4j.getRandom().setStates(st.nd4jRootState, st.nd4jNodeState);
  }

  /** The parameters of every layer that ever trains: the phase network's over the whole's. */
  private Map<String, Map<String, INDArray>> snapshot(ComputationGraph net, Phase phase) {
    Map<String, Map<String, INDArray>> m =
        new LinkedHashMap<>(ParameterTransfer.snapshot(plan.network(), everTrainable));
    m.putAll(ParameterTransfer.snapshot(net, phase.trainable()));
    return m;
  }

  private void checkpoint(ComputationGraph net, Phase phase) {
    if (checkpointing == null) {
      return;
    }
    st.current = snapshot(net, phase);
    var updater = net.getUpdater(false);
    st.updaterState =
        updater == null || updater.getStateViewArray() == null
            ? null
            : updater.getStateViewArray().dup();
    st.iterationCount = net.getConfiguration().getIterationCount();
    st.epochCount = net.getConfiguration().getEpochCount();
    Random rng = Nd4j.getRandom();
    st.nd4jRootState = rng.rootState();
    st.nd4jNodeState = rng.nodeState();
    st.shuffleState = shuffle.state();
    st.trainIteratorEpoch = train instanceof ImageBatches ib ? ib.nextEpoch() : -1;
    int epoch = st.epoch;
    try {
      CheckpointFile.write(
          checkpointing.file(),
          checkpointing.fingerprint(),
          st,
          () -> TestSeam.reached("checkpoint:" + epoch));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write checkpoint " + checkpointing.file() + ": " + e.getMessage(), e);
    }
    checkpointedEpochs = epoch;
    st.current = null; // the network holds it; keep memory to one copy between checkpoints
    st.updaterState = null;
    log.debug("checkpoint of epoch {} written to {}", epoch, checkpointing.file());
    TestSeam.reached("epoch:" + epoch);
  }

  private Path checkpointFile() {
    return checkpointing == null ? null : checkpointing.file();
  }

  private static EpochRecord record(
      int epoch, double[] lossAcc, PhaseRunner.Validation v, double lr, double seconds) {
    ClassificationReport report = v == null ? null : v.report();
    return new EpochRecord(
        epoch,
        lossAcc[0],
        lossAcc[1],
        report == null ? Double.NaN : report.logLoss(),
        report == null ? Double.NaN : report.accuracy(),
        lr,
        seconds);
  }

  private void log(Phase phase, EpochRecord rec) {
    if (!log.isInfoEnabled()) {
      return;
    }
    double eta = st.seconds / st.epoch * (totalEpochs - st.epoch);
    log.info(
        String.format(
            Locale.ROOT,
            "epoch %d/%d [%s] loss %.4f acc %.4f%s %s %.1fs ETA %.0fs",
            rec.epoch(),
            totalEpochs,
            phase.name(),
            rec.trainLoss(),
            rec.trainAccuracy(),
            rec.hasValidation()
                ? String.format(
                    Locale.ROOT,
                    " val_loss %.4f val_acc %.4f",
                    rec.validationLoss(),
                    rec.validationAccuracy())
                : "",
            EpochLine.rates(phase, rec.learningRate()),
            rec.seconds(),
            eta));
  }
}
