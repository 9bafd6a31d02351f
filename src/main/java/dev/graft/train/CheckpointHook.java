package dev.graft.train;

import dev.graft.data.ImageBatches;
import dev.graft.error.GraftException;
import dev.graft.graph.ParameterTransfer;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TrainingPlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run's checkpoint ({@link Checkpointing}): read back on resume ({@link #resume}), the phase
 * network put where it left off ({@link #onPhaseStart}), and at every epoch's end everything the
 * rest of the run depends on written atomically (parameters and optimizer state, both generators,
 * the training iterator's epoch, the schedule's position, the history, the best epoch). A run
 * resumed from it finishes with the parameters an uninterrupted run ends with, bit for bit.
 *
 * <p>The state is taken on the training thread at the epoch's end; the file is written (and forced
 * to disk) on a writer thread while the next epoch trains, one write at a time. A stop waits for
 * the write in flight, so the checkpoint it reports is on disk.
 */
final class CheckpointHook implements EpochHook, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Trainer.class);
  private final Checkpointing checkpointing;
  private final ParameterSnapshots snapshots;
  private final DataSetIterator train;
  private final ReplayableRandom shuffle;
  private volatile int writtenEpochs;
  private ExecutorService writer;
  private Future<Void> pending;

  CheckpointHook(
      Checkpointing checkpointing,
      ParameterSnapshots snapshots,
      DataSetIterator train,
      ReplayableRandom shuffle) {
    this.checkpointing = checkpointing;
    this.snapshots = snapshots;
    this.train = train;
    this.shuffle = shuffle;
  }

  /** The file. */
  Path file() {
    return checkpointing.file();
  }

  /** Epochs the checkpoint on disk holds (what a stop now would keep). */
  int writtenEpochs() {
    return writtenEpochs;
  }

  /**
   * With {@code resume} set and a checkpoint on disk made with this run's settings and data: its
   * state, with its parameters put into the plan's network; otherwise null (a fresh start).
   */
  TrainingState resume(TrainingPlan plan, Set<String> everTrainable, int totalEpochs) {
    Path file = checkpointing.file();
    if (!checkpointing.resume()) {
      if (CheckpointFile.exists(file)) {
        log.info("starting afresh: the checkpoint {} will be overwritten", file);
      }
      return null;
    }
    if (!CheckpointFile.exists(file)) {
      log.info("no checkpoint at {}: starting afresh", file);
      return null;
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
    TrainingState st = c.state();
    if (st.epoch > totalEpochs
        || !st.current.keySet().containsAll(everTrainable)
        || st.phaseIndex >= plan.steps().size()) {
      throw new GraftException(
          "checkpoint " + file + " does not fit this network and plan (delete it to start afresh)");
    }
    try {
      // The best epoch's weights are restored at the end of the run: checked now, with the file.
      if (st.best != null) {
        ParameterTransfer.checkFits(plan.network(), st.best);
      }
      ParameterTransfer.restore(plan.network(), st.current);
    } catch (GraftException e) {
      throw new GraftException(
          "checkpoint "
              + file
              + " does not fit this network: "
              + e.getMessage()
              + " (delete it to start afresh)",
          e);
    }
    shuffle.restore(st.shuffleState);
    if (train instanceof ImageBatches ib && st.trainIteratorEpoch >= 0) {
      ib.seekEpoch(st.trainIteratorEpoch);
    }
    writtenEpochs = st.epoch;
    log.info("resuming from checkpoint {}: {} of {} epochs done", file, st.epoch, totalEpochs);
    return st;
  }

  /** A phase continuing from the checkpoint gets its optimizer, schedule and generator back. */
  @Override
  public void onPhaseStart(TrainingState st, Phase phase, PhaseRunner runner, boolean continuing) {
    if (!continuing) {
      return;
    }
    ComputationGraph net = runner.net();
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

  @Override
  public void onEpochEnd(TrainingState st, EpochEnd end) {
    ComputationGraph net = end.runner().net();
    st.current = snapshots.take(net);
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
    // taken now, on the training thread; the arrays are fresh copies nothing writes to any more
    CheckpointFile.Prepared prepared = CheckpointFile.prepare(checkpointing.fingerprint(), st);
    st.current = null; // the network holds it; keep memory to one copy between checkpoints
    st.updaterState = null;
    awaitWritten(); // one write in flight at a time, in epoch order
    pending =
        writer()
            .submit(
                () -> {
                  long t0 = System.nanoTime();
                  CheckpointFile.write(
                      checkpointing.file(),
                      prepared,
                      () -> TestSeam.reached("checkpoint:" + epoch));
                  writtenEpochs = epoch;
                  log.debug(
                      "checkpoint of epoch {} written to {} in {} ms",
                      epoch,
                      checkpointing.file(),
                      (System.nanoTime() - t0) / 1_000_000);
                  TestSeam.reached("epoch:" + epoch);
                  return null;
                });
    if (TestSeam.active()) {
      awaitWritten(); // the tests' pause points are defined against a written checkpoint
    }
  }

  /**
   * Waits until the checkpoint being written (if any) is on disk.
   *
   * @throws UncheckedIOException when writing it failed
   */
  void awaitWritten() {
    Future<Void> p = pending;
    if (p == null) {
      return;
    }
    try {
      p.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GraftException("interrupted while writing checkpoint " + checkpointing.file());
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw new UncheckedIOException(
          "cannot write checkpoint " + checkpointing.file() + ": " + c.getMessage(),
          c instanceof IOException io ? io : new IOException(c));
    } finally {
      pending = null;
    }
  }

  /** Waits for the last write and stops the writer thread. */
  @Override
  public void close() {
    try {
      awaitWritten();
    } finally {
      if (writer != null) {
        writer.shutdown();
      }
    }
  }

  private ExecutorService writer() {
    if (writer == null) {
      writer =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "graft-checkpoint-writer");
                t.setDaemon(true);
                return t;
              });
    }
    return writer;
  }
}
