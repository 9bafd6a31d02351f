package dev.graft.head;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multinomial logistic regression fitted to convergence: the solver behind {@link
 * Head#logisticRegression()}. Minimises the mean (class-weighted) cross-entropy plus {@code l2/2 *
 * ||W||^2} (the bias is not penalised) with full-batch {@link Lbfgs}, in double precision.
 *
 * <p>Features are centred over the training rows and divided by one common scale, the root mean
 * square of the centred values, before the fit: the strength grid then means the same whatever the
 * base's activation scale, and the geometry of the features is kept (scaling each feature to unit
 * variance blew up rarely active ReLU features and generalised worse on the digits transfer test).
 * The penalty applies to the weights of the scaled features. The scaling is folded back into the
 * returned weights and bias: {@code softmax(x W + b)} on the raw features gives the fitted
 * probabilities, so a DL4J output layer holding them predicts exactly as fitted and nothing else
 * has to be recorded for prediction.
 *
 * <p>The strength is chosen by {@link #select}: stratified k-fold cross-validation on the training
 * labels, or a validation set when there is one, over a grid of strengths walked from strong to
 * weak with warm starts; the score is the held-out mean log loss. Deterministic for a given seed.
 *
 * <pre>{@code
 * SoftmaxRegression.Selection s = SoftmaxRegression.select(x, y, classes, null, null, null,
 *     SoftmaxRegression.Options.defaults());
 * double[][] w = s.fit().weights();   // [features][classes], for the raw features
 * }</pre>
 *
 * <p>Why one class of this size: the strength search, the folds and the objective (a plain-Java
 * path for small problems, a BLAS path for large ones) all work on the same scaled rows, kept in
 * the private {@code Problem}; a third of the file is the value types and their documentation.
 */
public final class SoftmaxRegression {
  private static final Logger log = LoggerFactory.getLogger(SoftmaxRegression.class);

  /** Strength used when there are too few examples per class to cross-validate. */
  public static final double FALLBACK_L2 = 1e-2;

  private SoftmaxRegression() {}

  /**
   * How to fit.
   *
   * @param l2 the strength, or NaN to choose it from {@link #grid}
   * @param grid candidate strengths (any order)
   * @param folds cross-validation folds at most (fewer when a class has fewer examples)
   * @param seed seed of the fold assignment
   * @param solver stopping rules of the final fit
   * @param searchSolver stopping rules of the fits made while choosing the strength
   */
  public record Options(
      double l2,
      double[] grid,
      int folds,
      long seed,
      Lbfgs.Settings solver,
      Lbfgs.Settings searchSolver) {
    /** Validates. */
    public Options {
      if (!Double.isNaN(l2) && !(l2 >= 0 && Double.isFinite(l2))) {
        throw new GraftException("l2 strength must be >= 0 (or NaN to choose it), got " + l2);
      }
      if (grid == null || grid.length == 0) {
        throw new GraftException("the l2 grid needs at least one strength");
      }
      grid = grid.clone();
      for (double g : grid) {
        if (!(g >= 0 && Double.isFinite(g))) {
          throw new GraftException("l2 grid strengths must be >= 0, got " + g);
        }
      }
      if (folds < 2) {
        throw new GraftException("cross-validation needs at least 2 folds, got " + folds);
      }
    }

    /**
     * Strength chosen from 1e-4 to 10 in half decades, 5 folds, seed 42, up to 1000 L-BFGS
     * iterations for the final fit and 300 while choosing.
     */
    public static Options defaults() {
      double[] grid = new double[11];
      for (int i = 0; i < grid.length; i++) {
        grid[i] = Math.pow(10, -4 + 0.5 * i);
      }
      return new Options(
          Double.NaN,
          grid,
          5,
          42,
          Lbfgs.Settings.defaults(),
          Lbfgs.Settings.defaults().withMaxIterations(300));
    }

    /** A copy with a fixed strength (NaN: choose). */
    public Options withL2(double l2) {
      return new Options(l2, grid, folds, seed, solver, searchSolver);
    }

    /** A copy with another fold seed. */
    public Options withSeed(long s) {
      return new Options(l2, grid, folds, s, solver, searchSolver);
    }
  }

  /**
   * A fitted model.
   *
   * @param weights {@code [features][classes]}, for the raw (unstandardised) features
   * @param bias {@code [classes]}
   * @param l2 the strength it was fitted with
   * @param objective the minimised objective (standardised weights' penalty included)
   * @param trainLoss mean class-weighted cross-entropy on the training rows, no penalty
   * @param iterations L-BFGS iterations
   * @param converged whether L-BFGS met its tolerance
   */
  public record Fit(
      double[][] weights,
      double[] bias,
      double l2,
      double objective,
      double trainLoss,
      int iterations,
      boolean converged) {}

  /**
   * What {@link #select} did.
   *
   * @param fit the final model, on all training rows, at the chosen strength
   * @param method how the strength was chosen, in words
   * @param strengths the strengths tried, in the order tried
   * @param scores the held-out mean log loss of each (NaN where not scored)
   */
  public record Selection(Fit fit, String method, double[] strengths, double[] scores) {}

  /**
   * Fits at {@code l2} on all rows.
   *
   * @param x {@code [N, F]} features
   * @param y class index of each row
   * @param classes number of classes
   * @param classWeights per-class loss weights, or null
   */
  public static Fit fit(
      INDArray x, int[] y, int classes, double[] classWeights, double l2, Lbfgs.Settings s) {
    Problem p = Problem.of(x, y, classes, classWeights);
    double[] theta = new double[p.f * classes + classes];
    return p.fit(p.all, theta, l2, s);
  }

  /**
   * Chooses the strength (unless {@code options.l2()} is set) and fits on all training rows.
   *
   * @param x {@code [N, F]} training features
   * @param y their class indices
   * @param classes number of classes
   * @param classWeights per-class loss weights, or null
   * @param xVal validation features, or null to cross-validate on the training rows
   * @param yVal validation class indices, or null
   */
  public static Selection select(
      INDArray x,
      int[] y,
      int classes,
      double[] classWeights,
      INDArray xVal,
      int[] yVal,
      Options options) {
    Problem p = Problem.of(x, y, classes, classWeights);
    int params = p.f * classes + classes;
    if (!Double.isNaN(options.l2())) {
      Fit f = p.fit(p.all, new double[params], options.l2(), options.solver());
      return new Selection(f, "given", new double[] {options.l2()}, new double[] {Double.NaN});
    }
    double[] grid = options.grid().clone();
    Arrays.sort(grid);
    reverse(grid); // strong to weak: each fit warm-starts the next, weaker one
    int[] counts = new int[classes];
    for (int c : y) {
      counts[c]++;
    }
    int minCount = Arrays.stream(counts).min().orElse(0);
    String method;
    List<Rows[]> splits = new ArrayList<>(); // {fitted rows, held-out rows}
    if (xVal != null) {
      method = "validation set log loss";
      splits.add(new Rows[] {p.all, p.standardize(xVal, yVal)});
    } else if (minCount < 2) {
      log.info(
          "a class has {} training example(s): too few to cross-validate, l2 = {}",
          minCount,
          FALLBACK_L2);
      Fit f = p.fit(p.all, new double[params], FALLBACK_L2, options.solver());
      return new Selection(
          f,
          "fixed (a class has fewer than 2 examples)",
          new double[] {FALLBACK_L2},
          new double[] {Double.NaN});
    } else {
      int k = Math.min(options.folds(), minCount);
      method = k + "-fold cross-validation log loss on the training labels";
      int[] fold = folds(y, classes, k, options.seed());
      for (int i = 0; i < k; i++) {
        List<Integer> tr = new ArrayList<>();
        List<Integer> te = new ArrayList<>();
        for (int r = 0; r < y.length; r++) {
          (fold[r] == i ? te : tr).add(r);
        }
        splits.add(
            new Rows[] {
              p.subset(tr.stream().mapToInt(Integer::intValue).toArray()),
              p.subset(te.stream().mapToInt(Integer::intValue).toArray())
            });
      }
    }
    double[][] warm = new double[splits.size()][params];
    List<Double> tried = new ArrayList<>();
    List<Double> scores = new ArrayList<>();
    double best = Double.POSITIVE_INFINITY;
    double bestL2 = grid[0];
    double[] bestTheta = new double[params];
    int worse = 0;
    for (double l2 : grid) {
      double lossSum = 0;
      double weightSum = 0;
      for (int i = 0; i < splits.size(); i++) {
        Rows[] sp = splits.get(i);
        p.fit(sp[0], warm[i], l2, options.searchSolver());
        warm[i] = p.lastTheta;
        double[] lw = p.heldOutLoss(warm[i], sp[1]);
        lossSum += lw[0];
        weightSum += lw[1];
      }
      double score = lossSum / weightSum;
      tried.add(l2);
      scores.add(score);
      log.info(String.format(Locale.ROOT, "l2 %.2e: held-out log loss %.5f", l2, score));
      if (score < best - 1e-9) {
        best = score;
        bestL2 = l2;
        bestTheta = warm[0];
        worse = 0;
      } else if (++worse >= 3) {
        break; // weaker penalties only overfit further
      }
    }
    Fit f = p.fit(p.all, bestTheta, bestL2, options.solver());
    log.info(
        String.format(
            Locale.ROOT,
            "logistic regression: l2 %.2e by %s (%.5f); %s%s",
            bestL2,
            method,
            best,
            finalFitWords(f.iterations()),
            f.converged() ? "" : " (iteration cap reached)"));
    return new Selection(
        f,
        method,
        tried.stream().mapToDouble(Double::doubleValue).toArray(),
        scores.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /**
   * The final fit in words. It starts from the search's weights for the chosen strength; when the
   * search already fitted all training rows (selection on a validation set) they meet the tolerance
   * at once, and "0 iterations" would read as if no fit happened.
   */
  static String finalFitWords(int iterations) {
    return iterations == 0
        ? "final fit on all training rows: the search's fit at this strength, already converged"
        : "final fit on all training rows: " + iterations + " more L-BFGS iterations";
  }

  /** Stratified fold of each row: each class's rows shuffled, then dealt round-robin. */
  static int[] folds(int[] y, int classes, int k, long seed) {
    Random rnd = new Random(seed);
    int[] fold = new int[y.length];
    int next = 0;
    for (int c = 0; c < classes; c++) {
      List<Integer> rows = new ArrayList<>();
      for (int r = 0; r < y.length; r++) {
        if (y[r] == c) {
          rows.add(r);
        }
      }
      java.util.Collections.shuffle(rows, rnd);
      for (int r : rows) {
        fold[r] = next;
        next = (next + 1) % k;
      }
    }
    return fold;
  }

  private static void reverse(double[] a) {
    for (int i = 0, j = a.length - 1; i < j; i++, j--) {
      double t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Rows of standardised features with their labels and loss weights. */
  private static final class Rows {
    final double[] x; // row-major [n, f]
    final int n;
    final int f;
    final int[] y;
    final double[] weight;
    private INDArray nd;

    Rows(double[] x, int n, int f, int[] y, double[] weight) {
      this.x = x;
      this.n = n;
      this.f = f;
      this.y = y;
      this.weight = weight;
    }

    /** The same rows as an ND4J matrix, for the BLAS path. */
    INDArray nd() {
      if (nd == null) {
        nd = Nd4j.create(x, new long[] {n, f}, 'c');
      }
      return nd;
    }
  }

  /** The standardised training data and the objective on any subset of its rows. */
  private static final class Problem {
    /** Above this many multiply-adds per product the objective runs on ND4J's BLAS. */
    static final long BLAS_WORK = 2_000_000;

    final Rows all;
    final int n;
    final int f;
    final int k;
    final double[] mean;
    final double[] scale;
    final double[] classWeights;
    double[] lastTheta;

    private Problem(Rows all, int k, double[] mean, double[] scale, double[] classWeights) {
      this.all = all;
      this.n = all.n;
      this.f = all.f;
      this.k = k;
      this.mean = mean;
      this.scale = scale;
      this.classWeights = classWeights;
    }

    static Problem of(INDArray raw, int[] y, int k, double[] classWeights) {
      if (raw.rank() != 2) {
        throw new GraftException("features must be [N, F], got " + Arrays.toString(raw.shape()));
      }
      if (raw.size(0) != y.length || y.length == 0) {
        throw new GraftException(
            "got " + raw.size(0) + " feature rows and " + y.length + " labels");
      }
      if (k < 2) {
        throw new GraftException("need at least 2 classes, got " + k);
      }
      for (int c : y) {
        if (c < 0 || c >= k) {
          throw new GraftException("class index " + c + " outside [0, " + k + ")");
        }
      }
      if (classWeights != null && classWeights.length != k) {
        throw new GraftException(
            "got " + classWeights.length + " class weights for " + k + " classes");
      }
      int n = y.length;
      int f = (int) raw.size(1);
      double[] x = raw.castTo(DataType.DOUBLE).dup('c').data().asDouble();
      double[] mean = new double[f];
      double[] scale = new double[f];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < f; j++) {
          double v = x[i * f + j];
          if (!Double.isFinite(v)) {
            throw new GraftException("features contain NaN or infinite values (row " + i + ")");
          }
          mean[j] += v;
        }
      }
      for (int j = 0; j < f; j++) {
        mean[j] /= n;
      }
      // one common scale, the root mean square of the centred values: per-feature scaling
      // blew up rarely active ReLU features and generalised worse (digits test: 0.83 vs 0.86)
      double ss = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < f; j++) {
          double d = x[i * f + j] - mean[j];
          ss += d * d;
        }
      }
      double common = Math.sqrt(ss / ((double) n * f));
      Arrays.fill(scale, common > 1e-30 ? common : 1);
      standardizeInPlace(x, f, mean, scale);
      double[] w = new double[n];
      for (int i = 0; i < n; i++) {
        w[i] = classWeights == null ? 1 : classWeights[y[i]];
      }
      return new Problem(new Rows(x, n, f, y.clone(), w), k, mean, scale, classWeights);
    }

    private static void standardizeInPlace(double[] x, int f, double[] mean, double[] scale) {
      for (int i = 0; i < x.length; i++) {
        int j = i % f;
        x[i] = (x[i] - mean[j]) / scale[j];
      }
    }

    /** Other rows (validation) standardised like the training rows. */
    Rows standardize(INDArray raw, int[] y) {
      if (raw.rank() != 2 || raw.size(1) != f || raw.size(0) != y.length) {
        throw new GraftException(
            "validation features "
                + Arrays.toString(raw.shape())
                + " with "
                + y.length
                + " labels do not match "
                + f
                + " training features");
      }
      double[] x = raw.castTo(DataType.DOUBLE).dup('c').data().asDouble();
      standardizeInPlace(x, f, mean, scale);
      double[] w = new double[y.length];
      for (int i = 0; i < y.length; i++) {
        w[i] = classWeights == null ? 1 : classWeights[y[i]];
      }
      return new Rows(x, y.length, f, y.clone(), w);
    }

    int[] allRows() {
      int[] r = new int[n];
      for (int i = 0; i < n; i++) {
        r[i] = i;
      }
      return r;
    }

    Rows subset(int[] idx) {
      if (idx.length == n) {
        return all;
      }
      double[] x = new double[idx.length * f];
      int[] y = new int[idx.length];
      double[] w = new double[idx.length];
      for (int i = 0; i < idx.length; i++) {
        System.arraycopy(all.x, idx[i] * f, x, i * f, f);
        y[i] = all.y[idx[i]];
        w[i] = all.weight[idx[i]];
      }
      return new Rows(x, idx.length, f, y, w);
    }

    /** Minimises on {@code rows} from {@code theta0}; the optimum also lands in lastTheta. */
    Fit fit(Rows rows, double[] theta0, double l2, Lbfgs.Settings s) {
      double[] lossOut = new double[1];
      Lbfgs.Result r =
          Lbfgs.minimize((theta, grad) -> objective(rows, theta, l2, grad, lossOut), theta0, s);
      lastTheta = r.x();
      double[] g = new double[r.x().length];
      objective(rows, r.x(), l2, g, lossOut);
      // fold the standardisation into the weights: (x - m)/s W + b = x (W/s) + (b - (m/s) W)
      double[][] weights = new double[f][k];
      double[] bias = new double[k];
      System.arraycopy(r.x(), f * k, bias, 0, k);
      for (int j = 0; j < f; j++) {
        for (int c = 0; c < k; c++) {
          double wz = r.x()[j * k + c];
          weights[j][c] = wz / scale[j];
          bias[c] -= mean[j] / scale[j] * wz;
        }
      }
      return new Fit(weights, bias, l2, r.value(), lossOut[0], r.iterations(), r.converged());
    }

    /** Logits {@code [n, k]} row-major of {@code rows} at {@code theta}. */
    double[] logits(Rows rows, double[] theta) {
      int fk = f * k;
      if ((long) rows.n * f * k >= BLAS_WORK) {
        INDArray w = Nd4j.create(Arrays.copyOfRange(theta, 0, fk), new long[] {f, k}, 'c');
        INDArray b = Nd4j.create(Arrays.copyOfRange(theta, fk, fk + k), new long[] {1, k}, 'c');
        return Nd4j.toFlattened('c', rows.nd().mmul(w).addiRowVector(b)).toDoubleVector();
      }
      double[] z = new double[rows.n * k];
      for (int i = 0; i < rows.n; i++) {
        int zi = i * k;
        System.arraycopy(theta, fk, z, zi, k);
        int xi = i * f;
        for (int j = 0; j < f; j++) {
          double v = rows.x[xi + j];
          if (v != 0) {
            int wj = j * k;
            for (int c = 0; c < k; c++) {
              z[zi + c] += v * theta[wj + c];
            }
          }
        }
      }
      return z;
    }

    /**
     * The penalised objective at {@code theta} (W row-major {@code [F, K]}, then b); writes the
     * gradient and the unpenalised loss.
     */
    double objective(Rows rows, double[] theta, double l2, double[] grad, double[] lossOut) {
      int fk = f * k;
      double[] z = logits(rows, theta);
      double loss = 0;
      // z becomes the loss gradient with respect to the logits: w_i (p - onehot) / n
      for (int i = 0; i < rows.n; i++) {
        int zi = i * k;
        double lse = logSumExp(z, zi);
        double wi = rows.weight[i];
        loss += wi * (lse - z[zi + rows.y[i]]);
        for (int c = 0; c < k; c++) {
          double p = Math.exp(z[zi + c] - lse);
          z[zi + c] = wi * (p - (c == rows.y[i] ? 1 : 0)) / rows.n;
        }
      }
      loss /= rows.n;
      Arrays.fill(grad, 0);
      if ((long) rows.n * f * k >= BLAS_WORK) {
        INDArray gz = Nd4j.create(z, new long[] {rows.n, k}, 'c');
        double[] gw = Nd4j.toFlattened('c', rows.nd().transpose().mmul(gz)).toDoubleVector();
        System.arraycopy(gw, 0, grad, 0, fk);
      } else {
        for (int i = 0; i < rows.n; i++) {
          int xi = i * f;
          int zi = i * k;
          for (int j = 0; j < f; j++) {
            double v = rows.x[xi + j];
            if (v != 0) {
              int wj = j * k;
              for (int c = 0; c < k; c++) {
                grad[wj + c] += v * z[zi + c];
              }
            }
          }
        }
      }
      for (int i = 0; i < rows.n; i++) {
        for (int c = 0; c < k; c++) {
          grad[fk + c] += z[i * k + c];
        }
      }
      double penalty = 0;
      for (int q = 0; q < fk; q++) {
        penalty += theta[q] * theta[q];
        grad[q] += l2 * theta[q];
      }
      lossOut[0] = loss;
      return loss + 0.5 * l2 * penalty;
    }

    /** {@code log(sum_c exp(z[from + c]))} over the k logits of one row, without overflow. */
    private double logSumExp(double[] z, int from) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < k; c++) {
        max = Math.max(max, z[from + c]);
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        sum += Math.exp(z[from + c] - max);
      }
      return max + Math.log(sum);
    }

    /** {sum of class-weighted held-out losses, sum of their weights} at {@code theta}. */
    double[] heldOutLoss(double[] theta, Rows rows) {
      double[] z = logits(rows, theta);
      double sum = 0;
      double weights = 0;
      for (int i = 0; i < rows.n; i++) {
        int zi = i * k;
        sum += rows.weight[i] * (logSumExp(z, zi) - z[zi + rows.y[i]]);
        weights += rows.weight[i];
      }
      return new double[] {sum, weights};
    }
  }
}
