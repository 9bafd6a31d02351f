package dev.graft.train;

import dev.graft.error.GraftException;
import dev.graft.strategy.FrozenPart;
import dev.graft.strategy.Phase;
import dev.graft.strategy.TrainingPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learning-rate range test (Smith 2017; fastai's {@code lr_find}): a short run on the actual
 * strategy and head in which the rate grows exponentially every minibatch, from {@link
 * Settings#minRate()} until the loss diverges or {@link Settings#maxRate()} is reached. The
 * suggestion is the rate where the smoothed loss falls fastest per decade (steepest descent).
 *
 * <pre>{@code
 * LearningRateFinder.Result r = LearningRateFinder.run(transferGraph.plan(false, "lr-find"), batches, Settings.defaults(), 42);
 * double lr = r.suggestion();
 * }</pre>
 *
 * <p>It trains a copy of the trainable part of the strategy's last phase (for fine-tuning, the
 * unfrozen layers and the head, their rates keeping the strategy's ratios); the assembled network
 * is left as it was. The frozen part runs once per minibatch of the first pass over the data; its
 * activations are kept and replayed for the rest of the sweep (so with augmentation, each image's
 * first augmented view is the one replayed). Progress is logged at INFO every 20 steps.
 */
public final class LearningRateFinder {
  private static final Logger log = LoggerFactory.getLogger(LearningRateFinder.class);
  private static final double BETA = 0.98;
  private static final int PROGRESS_EVERY = 20;

  private LearningRateFinder() {}

  /**
   * The sweep.
   *
   * @param minRate first rate
   * @param maxRate last rate at most
   * @param steps minibatches at most
   * @param divergence stop when the smoothed loss exceeds this multiple of its minimum
   */
  public record Settings(double minRate, double maxRate, int steps, double divergence) {
    /** Validates. */
    public Settings {
      if (!(minRate > 0 && maxRate > minRate)) {
        throw new GraftException(
            "learning-rate sweep needs 0 < min < max, got " + minRate + ", " + maxRate);
      }
      if (steps < 10) {
        throw new GraftException("learning-rate sweep needs at least 10 steps, got " + steps);
      }
      if (!(divergence > 1)) {
        throw new GraftException("divergence factor must be > 1, got " + divergence);
      }
    }

    /** 1e-7 to 10 over at most 100 minibatches; stop at 4x the lowest loss. */
    public static Settings defaults() {
      return new Settings(1e-7, 10, 100, 4);
    }
  }

  /**
   * What the sweep saw.
   *
   * @param rates the rate of each step
   * @param losses the minibatch loss of each step
   * @param smoothed the exponentially smoothed loss (bias-corrected, factor 0.98)
   * @param suggestionIndex the step of the suggestion
   * @param suggestion the suggested rate: steepest descent of the smoothed loss
   */
  public record Result(
      double[] rates, double[] losses, double[] smoothed, int suggestionIndex, double suggestion) {
    /** One line: the suggestion and how it was chosen. */
    public String describe() {
      return String.format(
          Locale.ROOT,
          "suggested learning rate %.2e (steepest descent of the smoothed loss over %d steps)",
          suggestion,
          rates.length);
    }
  }

  /**
   * Runs the sweep on the plan's last phase.
   *
   * @param plan a plan made without caching ({@code transferGraph.plan(false, "lr-find")}): the
   *     sweep sees each minibatch once
   * @param train training images and one-hot labels (reset when exhausted)
   */
  public static Result run(TrainingPlan plan, DataSetIterator train, Settings s, long seed) {
    return run(plan, train, s, seed, null);
  }

  /**
   * Runs the sweep on the plan's last phase, reporting progress.
   *
   * @param plan a plan made without caching ({@code transferGraph.plan(false, "lr-find")})
   * @param train training images and one-hot labels (reset when exhausted)
   * @param s the sweep's settings
   * @param seed the seed of ND4J's generator (dropout)
   * @param progress called with the number of steps done after each step (at most {@link
   *     Settings#steps()}; the sweep may stop early when the loss diverges); may be null
   * @return the curve and the suggestion
   */
  public static Result run(
      TrainingPlan plan, DataSetIterator train, Settings s, long seed, IntConsumer progress) {
    TrainingPlan.Step last = plan.steps().get(plan.steps().size() - 1);
    Phase phase = last.phase();
    if (phase.convex()) {
      throw new GraftException(
          "a logistic-regression head is fitted to convergence and has no learning rate: find"
              + " one for a head trained by Adam");
    }
    if (last.feed().cached()) {
      throw new IllegalArgumentException("plan the sweep without caching: plan(false, key)");
    }
    Nd4j.getRandom().setSeed(seed);
    Optional<FrozenPart> frozen = last.feed().ownFrozenPart().map(plan::frozenPart);
    ComputationGraph net = plan.trainablePart(phase, last.feed().trainable(), 0);
    Map<String, Double> ratio = new LinkedHashMap<>();
    double top = phase.maxLearningRate();
    phase.learningRates().forEach((layer, lr) -> ratio.put(layer, lr / top));
    double[] rates = new double[s.steps()];
    double[] losses = new double[s.steps()];
    double[] smoothed = new double[s.steps()];
    double avg = 0;
    double best = Double.POSITIVE_INFINITY;
    int n = 0;
    double growth = Math.pow(s.maxRate() / s.minRate(), 1.0 / (s.steps() - 1));
    train.reset();
    // The frozen part's activations of each minibatch, computed on the first pass over the data
    // and replayed after it: the sweep runs up to `steps` minibatches, many passes over a small
    // set, and the frozen base would otherwise run on every one of them.
    List<org.nd4j.linalg.dataset.MultiDataSet> seen = new ArrayList<>();
    boolean replay = false;
    long t0 = System.nanoTime();
    for (int i = 0; i < s.steps(); i++) {
      double lr = s.minRate() * Math.pow(growth, i);
      ratio.forEach((layer, r) -> setRate(net, layer, lr * r));
      if (!replay && !train.hasNext()) {
        replay = !seen.isEmpty();
        if (!replay) {
          train.reset();
        }
      }
      org.nd4j.linalg.dataset.MultiDataSet batch;
      if (replay) {
        batch = seen.get(i % seen.size());
      } else {
        DataSet ds = train.next();
        INDArray[] in =
            frozen.isPresent()
                ? frozen.get().activations(ds.getFeatures())
                : new INDArray[] {ds.getFeatures()};
        batch = new org.nd4j.linalg.dataset.MultiDataSet(in, new INDArray[] {ds.getLabels()});
        seen.add(batch);
      }
      net.fit(batch);
      double loss = net.score();
      if (!Double.isFinite(loss)) {
        break;
      }
      avg = BETA * avg + (1 - BETA) * loss;
      double sm = avg / (1 - Math.pow(BETA, i + 1));
      rates[n] = lr;
      losses[n] = loss;
      smoothed[n] = sm;
      n++;
      best = Math.min(best, sm);
      if (progress != null) {
        progress.accept(n);
      }
      if ((i + 1) % PROGRESS_EVERY == 0) {
        log.info(
            String.format(
                Locale.ROOT,
                "lr-find: step %d/%d, rate %.2e, smoothed loss %.4f, %.1fs",
                i + 1,
                s.steps(),
                lr,
                sm,
                (System.nanoTime() - t0) / 1e9));
      }
      if (i > 5 && sm > s.divergence() * best) {
        log.info("lr-find: the loss diverged at {}", String.format(Locale.ROOT, "%.2e", lr));
        break;
      }
    }
    if (n < 5) {
      throw new GraftException(
          "the learning-rate sweep diverged after " + n + " steps: lower the minimum rate");
    }
    rates = Arrays.copyOf(rates, n);
    losses = Arrays.copyOf(losses, n);
    smoothed = Arrays.copyOf(smoothed, n);
    int idx = steepest(rates, smoothed);
    Result r = new Result(rates, losses, smoothed, idx, rates[idx]);
    log.info(r.describe());
    return r;
  }

  /**
   * Sets one layer's learning rate for the next step. DL4J's {@code setLearningRate} rebuilds the
   * whole updater (concatenating every parameter's state) on each call: for a sweep that changes
   * every layer's rate at every step, that was most of its time. A constant Adam rate is read from
   * the layer's own {@link Adam} configuration at every step (Graft gives each layer its own
   * instance), so changing it there is enough; anything else goes through DL4J.
   */
  static void setRate(ComputationGraph net, String layer, double lr) {
    if (net.getLayer(layer).conf().getLayer() instanceof BaseLayer b
        && b.getIUpdater() instanceof Adam adam
        && adam.getLearningRateSchedule() == null) {
      adam.setLearningRate(lr);
    } else {
      net.setLearningRate(layer, lr);
    }
  }

  /**
   * The step where the smoothed loss falls fastest per unit of log rate, before its minimum (after
   * it the loss only rises); central differences, the first and last points left out.
   */
  static int steepest(double[] rates, double[] smoothed) {
    int min = 0;
    for (int i = 1; i < smoothed.length; i++) {
      if (smoothed[i] < smoothed[min]) {
        min = i;
      }
    }
    int best = Math.max(0, Math.min(min, 1));
    double steepest = Double.POSITIVE_INFINITY;
    for (int i = 1; i < Math.min(min, smoothed.length - 1); i++) {
      double g =
          (smoothed[i + 1] - smoothed[i - 1]) / (Math.log(rates[i + 1]) - Math.log(rates[i - 1]));
      if (g < steepest) {
        steepest = g;
        best = i;
      }
    }
    return best;
  }
}
