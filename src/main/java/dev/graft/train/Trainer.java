package dev.graft.train;

import dev.graft.error.GraftException;
import dev.graft.graph.ParameterTransfer;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TrainingPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link TrainingPlan}: epochs over the training data, validation after each, and at the end
 * the best epoch's weights restored into {@link TrainingPlan#network()}. Which layers train at
 * which rates, and how each phase is fed, the plan says; the trainer reads no graph and chooses
 * none of it. What happens at an epoch's end (progress, the best epoch, early stopping, the
 * checkpoint, the user's listeners) is one {@link EpochHook} each, called in that order.
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
 * seed drives ND4J's generator for dropout and the shuffling of cached activations), and a run
 * resumed from its checkpoint ({@link TrainingConfig#checkpointing()}, {@link CheckpointHook})
 * finishes with the parameters an uninterrupted run ends with. A different OpenMP thread count,
 * DL4J's data parallelism and cuDNN can each change the order of floating-point sums.
 */
public final class Trainer {
  private static final Logger log = LoggerFactory.getLogger(Trainer.class);

  private final TrainingPlan plan;
  private final DataSetIterator train;
  private final DataSetIterator validation;
  private final TrainingConfig cfg;
  private final ReplayableRandom shuffle;
  private final ParameterSnapshots snapshots;
  private final CheckpointHook checkpoint;
  private final List<EpochHook> hooks = new ArrayList<>();
  private final Map<String, String> notes = new LinkedHashMap<>();
  private TrainingState st;

  private Trainer(
      TrainingPlan plan, DataSetIterator train, DataSetIterator validation, TrainingConfig cfg) {
    this.plan = plan;
    this.train = train;
    this.validation = validation;
    this.cfg = cfg;
    this.shuffle = new ReplayableRandom(cfg.seed());
    this.snapshots = new ParameterSnapshots(plan.network(), plan.everTrainable());
    this.checkpoint =
        cfg.checkpointing() == null
            ? null
            : new CheckpointHook(cfg.checkpointing(), snapshots, train, shuffle);
    this.st = new TrainingState(cfg.monitor());
    hooks.add(new ProgressLog(plan.totalEpochs()));
    hooks.add(new UserListeners(cfg.listeners()));
    hooks.add(new BestEpoch(cfg.monitor(), validation != null, snapshots));
    if (validation != null) {
      hooks.add(new EarlyStopping(cfg.patience(), cfg.monitor()));
    }
    if (checkpoint != null) {
      hooks.add(checkpoint);
    }
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
    int total = plan.totalEpochs();
    if (validation == null && cfg.patience() > 0) {
      log.warn("early stopping needs validation data; training all {} epochs", total);
    }
    Nd4j.getRandom().setSeed(cfg.seed());
    TrainingState resumed =
        checkpoint == null ? null : checkpoint.resume(plan, everTrainable(), total);
    int resumedFrom = resumed == null ? 0 : resumed.epoch;
    if (resumed != null) {
      st = resumed;
      cfg.listeners().forEach(l -> l.onResume(st.epoch, st.history));
    }
    List<TrainingPlan.Step> steps = plan.steps();
    boolean remaining = !st.stoppedEarly && st.epoch < total;
    try (PhaseRunner.SharedCaches shared =
        remaining ? PhaseRunner.SharedCaches.build(plan, train, validation, cfg) : null) {
      for (int p = 0; p < steps.size() && remaining && !st.stoppedEarly; p++) {
        int start = p == st.phaseIndex ? st.epochsInPhase : 0;
        if (p >= st.phaseIndex && start < steps.get(p).phase().epochs()) {
          runPhase(p, steps.get(p), start, shared);
        }
      }
    } catch (RuntimeException | Error e) {
      if (checkpoint != null) {
        try {
          checkpoint.close(); // the last checkpoint on disk before the failure surfaces
        } catch (RuntimeException c) {
          e.addSuppressed(c);
        }
      }
      throw e;
    }
    if (checkpoint != null) {
      checkpoint.close(); // the last checkpoint on disk before the run returns
    }
    return finish(resumedFrom);
  }

  /** Epochs {@code start}.. of step {@code p}, then its trained layers back into the network. */
  private void runPhase(int p, TrainingPlan.Step step, int start, PhaseRunner.SharedCaches shared) {
    Phase phase = step.phase();
    try (PhaseRunner runner =
        PhaseRunner.open(plan, step, shared, train, validation, cfg, shuffle)) {
      snapshots.phaseStarts(phase);
      hooks.forEach(h -> h.onPhaseStart(st, phase, runner, start > 0));
      for (int e = start; e < phase.epochs() && !st.stoppedEarly; e++) {
        int epoch = st.epoch + 1;
        int[] batch = {0};
        long t0 = System.nanoTime();
        double[] lossAcc = runner.trainEpoch(() -> afterBatch(epoch, ++batch[0]));
        PhaseRunner.Validation v = runner.validate();
        double seconds = (System.nanoTime() - t0) / 1e9;
        EpochRecord rec = record(epoch, lossAcc, v, runner.learningRate(), seconds);
        st.epoch = epoch;
        st.seconds += seconds;
        st.history.add(rec);
        st.phaseIndex = p;
        st.epochsInPhase = e + 1;
        EpochHook.EpochEnd end = new EpochHook.EpochEnd(phase, runner, rec, v);
        hooks.forEach(h -> h.onEpochEnd(st, end));
      }
      ParameterTransfer.copy(runner.net(), plan.network(), new LinkedHashSet<>(phase.trainable()));
      notes.putAll(runner.notes());
    }
  }

  /** The loop's safe point for a stop, after every minibatch. */
  private void afterBatch(int epoch, int batch) {
    TestSeam.reached("batch:" + epoch + ":" + batch);
    if (cfg.stop() != null) {
      if (checkpoint != null && cfg.stop().isRequested()) {
        checkpoint.awaitWritten(); // report a checkpoint that is on disk
      }
      cfg.stop()
          .check(
              checkpoint == null ? 0 : checkpoint.writtenEpochs(),
              checkpoint == null ? null : checkpoint.file());
    }
  }

  /** Restores the best epoch's weights, tells the listeners, and gathers the result. */
  private TrainingResult finish(int resumedFrom) {
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

  private Set<String> everTrainable() {
    return plan.everTrainable();
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
}
