package dev.graft.head;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SoftmaxRegressionTest {

  /** Rows drawn from a known softmax model; features on very different scales and offsets. */
  private static double[][] sample(
      Random rnd, int n, double[][] trueW, double[] offsets, double[] scales, int[] yOut) {
    int f = trueW.length;
    int k = trueW[0].length;
    double[][] x = new double[n][f];
    for (int i = 0; i < n; i++) {
      double[] z = new double[k];
      for (int j = 0; j < f; j++) {
        double v = rnd.nextGaussian();
        for (int c = 0; c < k; c++) {
          z[c] += v * trueW[j][c];
        }
        x[i][j] = offsets[j] + scales[j] * v;
      }
      double u = rnd.nextDouble() * expShifted(z);
      int c = 0;
      while (c < k - 1 && (u -= z[c]) > 0) {
        c++;
      }
      yOut[i] = c;
    }
    return x;
  }

  private static double[][] randomWeights(Random rnd, int f, int k, double strength) {
    double[][] w = new double[f][k];
    for (int j = 0; j < f; j++) {
      for (int c = 0; c < k; c++) {
        w[j][c] = strength * rnd.nextGaussian();
      }
    }
    return w;
  }

  /**
   * The reference: Newton's method with a backtracking line search on the same objective, written
   * independently of the solver (explicit Hessian, Gaussian elimination).
   */
  private static double[] newtonReference(double[][] xs, int[] y, int k, double l2) {
    int n = xs.length;
    int f = xs[0].length;
    int p = (f + 1) * k; // theta[j * k + c], j == f is the bias
    double[] theta = new double[p];
    for (int it = 0; it < 100; it++) {
      double[] g = new double[p];
      double[][] h = new double[p][p];
      for (int i = 0; i < n; i++) {
        double[] xt = new double[f + 1];
        System.arraycopy(xs[i], 0, xt, 0, f);
        xt[f] = 1;
        double[] pr = probabilities(theta, xt, k);
        for (int a = 0; a <= f; a++) {
          for (int c = 0; c < k; c++) {
            g[a * k + c] += (pr[c] - (y[i] == c ? 1 : 0)) * xt[a] / n;
            for (int b = 0; b <= f; b++) {
              for (int d = 0; d < k; d++) {
                double hc = (c == d ? pr[c] : 0) - pr[c] * pr[d];
                h[a * k + c][b * k + d] += hc * xt[a] * xt[b] / n;
              }
            }
          }
        }
      }
      for (int q = 0; q < f * k; q++) {
        g[q] += l2 * theta[q];
        h[q][q] += l2;
      }
      for (int q = 0; q < p; q++) {
        h[q][q] += 1e-12; // the bias is invariant to a shift shared by all classes
      }
      double[] step = solve(h, g);
      double f0 = objective(theta, xs, y, k, l2);
      double t = 1;
      double[] next = new double[p];
      while (true) {
        for (int q = 0; q < p; q++) {
          next[q] = theta[q] - t * step[q];
        }
        if (objective(next, xs, y, k, l2) <= f0 || t < 1e-10) {
          break;
        }
        t /= 2;
      }
      theta = next.clone();
    }
    return theta;
  }

  private static double[] probabilities(double[] theta, double[] xt, int k) {
    double[] z = new double[k];
    for (int a = 0; a < xt.length; a++) {
      for (int c = 0; c < k; c++) {
        z[c] += theta[a * k + c] * xt[a];
      }
    }
    double s = expShifted(z);
    for (int c = 0; c < k; c++) {
      z[c] /= s;
    }
    return z;
  }

  /**
   * Replaces the logits {@code z} by {@code exp(z - max z)} and returns their sum: a softmax's
   * numerators and denominator, without overflow.
   */
  private static double expShifted(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double s = 0;
    for (int c = 0; c < z.length; c++) {
      z[c] = Math.exp(z[c] - max);
      s += z[c];
    }
    return s;
  }

  private static double objective(double[] theta, double[][] xs, int[] y, int k, double l2) {
    int f = xs[0].length;
    double loss = 0;
    for (int i = 0; i < xs.length; i++) {
      double[] xt = new double[f + 1];
      System.arraycopy(xs[i], 0, xt, 0, f);
      xt[f] = 1;
      loss -= Math.log(probabilities(theta, xt, k)[y[i]]);
    }
    double pen = 0;
    for (int q = 0; q < f * k; q++) {
      pen += theta[q] * theta[q];
    }
    return loss / xs.length + 0.5 * l2 * pen;
  }

  private static double[] solve(double[][] a0, double[] b0) {
    int n = b0.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = a0[i].clone();
    }
    double[] b = b0.clone();
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      double[] tr = a[col];
      a[col] = a[piv];
      a[piv] = tr;
      double tb = b[col];
      b[col] = b[piv];
      b[piv] = tb;
      for (int r = col + 1; r < n; r++) {
        double m = a[r][col] / a[col][col];
        for (int c = col; c < n; c++) {
          a[r][c] -= m * a[col][c];
        }
        b[r] -= m * b[col];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int c = r + 1; c < n; c++) {
        s -= a[r][c] * x[c];
      }
      x[r] = s / a[r][r];
    }
    return x;
  }

  /** The scaling the solver documents: centre each feature, divide all by the centred RMS. */
  private static double[][] standardize(double[][] x) {
    int n = x.length;
    int f = x[0].length;
    double[][] z = new double[n][f];
    double ss = 0;
    for (int j = 0; j < f; j++) {
      double m = 0;
      for (double[] row : x) {
        m += row[j];
      }
      m /= n;
      for (int i = 0; i < n; i++) {
        z[i][j] = x[i][j] - m;
        ss += z[i][j] * z[i][j];
      }
    }
    double s = Math.sqrt(ss / ((double) n * f));
    for (double[] row : z) {
      for (int j = 0; j < f; j++) {
        row[j] /= s;
      }
    }
    return z;
  }

  /** The common scale of {@link #standardize}. */
  private static double commonScale(double[][] x) {
    double[][] z = standardize(x);
    // any non-constant feature: raw deviation over scaled deviation
    for (int j = 0; j < x[0].length; j++) {
      if (Math.abs(z[0][j] - z[1][j]) > 1e-9) {
        return (x[0][j] - x[1][j]) / (z[0][j] - z[1][j]);
      }
    }
    return 1;
  }

  @Test
  void reachesTheNewtonReferenceLoss() {
    Random rnd = new Random(7);
    int f = 4;
    int k = 3;
    int n = 150;
    int[] y = new int[n];
    double[][] x =
        sample(
            rnd,
            n,
            randomWeights(rnd, f, k, 1.5),
            new double[] {0, 100, -3, 0.5},
            new double[] {1, 40, 0.01, 3},
            y);
    double l2 = 1e-2;
    double[][] z = standardize(x);
    double[] ref = newtonReference(z, y, k, l2);
    double refObjective = objective(ref, z, y, k, l2);

    SoftmaxRegression.Fit fit =
        SoftmaxRegression.fit(Nd4j.create(x), y, k, null, l2, Lbfgs.Settings.defaults());

    assertTrue(fit.converged(), "converged");
    assertEquals(refObjective, fit.objective(), 1e-4, "objective");
    assertTrue(fit.objective() >= refObjective - 1e-9, "not below the optimum");
    // the weights folded back for the raw features give the reference's probabilities
    for (int i = 0; i < n; i++) {
      double[] logits = fit.bias().clone();
      for (int j = 0; j < f; j++) {
        for (int c = 0; c < k; c++) {
          logits[c] += x[i][j] * fit.weights()[j][c];
        }
      }
      double[] zt = new double[f + 1];
      System.arraycopy(z[i], 0, zt, 0, f);
      zt[f] = 1;
      double[] refP = probabilities(ref, zt, k);
      double[] p = logits.clone();
      double s = expShifted(p);
      for (int c = 0; c < k; c++) {
        assertEquals(refP[c], p[c] / s, 1e-4, "row " + i + " class " + c);
      }
    }
  }

  @Test
  void aLargeProblemOnTheBlasPathEndsAtAStationaryPoint() {
    Random rnd = new Random(8);
    int n = 2000;
    int f = 100;
    int k = 10;
    int[] y = new int[n];
    double[] offsets = new double[f];
    double[] scales = new double[f];
    for (int j = 0; j < f; j++) {
      offsets[j] = j % 7;
      scales[j] = 0.1 + j % 5;
    }
    double[][] x = sample(rnd, n, randomWeights(rnd, f, k, 0.3), offsets, scales, y);
    double l2 = 1e-2;
    SoftmaxRegression.Fit fit =
        SoftmaxRegression.fit(Nd4j.create(x), y, k, null, l2, Lbfgs.Settings.defaults());
    // gradient of the documented objective, in standardised space, computed here from scratch
    double[][] z = standardize(x);
    double[] theta = new double[(f + 1) * k];
    double scale = commonScale(x);
    for (int j = 0; j < f; j++) {
      for (int c = 0; c < k; c++) {
        theta[j * k + c] = fit.weights()[j][c] * scale;
      }
    }
    double[] g = new double[theta.length];
    for (int i = 0; i < n; i++) {
      double[] zt = new double[f + 1];
      System.arraycopy(z[i], 0, zt, 0, f);
      zt[f] = 1;
      // the bias in standardised space: the logits of row 0 fix it
      if (i == 0) {
        for (int c = 0; c < k; c++) {
          double raw = fit.bias()[c];
          double std = 0;
          for (int j = 0; j < f; j++) {
            raw += x[0][j] * fit.weights()[j][c];
            std += z[0][j] * theta[j * k + c];
          }
          theta[f * k + c] = raw - std;
        }
      }
      double[] p = probabilities(theta, zt, k);
      for (int a = 0; a <= f; a++) {
        for (int c = 0; c < k; c++) {
          g[a * k + c] += (p[c] - (y[i] == c ? 1 : 0)) * zt[a] / n;
        }
      }
    }
    double worst = 0;
    for (int q = 0; q < theta.length; q++) {
      double gq = g[q] + (q < f * k ? l2 * theta[q] : 0);
      worst = Math.max(worst, Math.abs(gq));
    }
    assertTrue(worst < 1e-5, "largest gradient component " + worst);
  }

  @Test
  void classWeightsScaleEachRowsLoss() {
    Random rnd = new Random(3);
    int n = 60;
    int[] y = new int[n];
    double[][] x =
        sample(rnd, n, randomWeights(rnd, 3, 2, 1), new double[3], new double[] {1, 1, 1}, y);
    SoftmaxRegression.Fit plain =
        SoftmaxRegression.fit(Nd4j.create(x), y, 2, null, 0.1, Lbfgs.Settings.defaults());
    SoftmaxRegression.Fit doubled =
        SoftmaxRegression.fit(
            Nd4j.create(x), y, 2, new double[] {2, 2}, 0.2, Lbfgs.Settings.defaults());
    // doubling every weight and the penalty doubles the objective and keeps the optimum
    assertEquals(2 * plain.objective(), doubled.objective(), 1e-6);
    assertEquals(plain.weights()[0][0], doubled.weights()[0][0], 1e-4);
  }

  @Test
  void crossValidationPicksAStrengthThatGeneralises() {
    Random rnd = new Random(11);
    int f = 30;
    int k = 4;
    double[][] w = randomWeights(rnd, f, k, 0.35);
    double[] offsets = new double[f];
    double[] scales = new double[f];
    java.util.Arrays.fill(scales, 1);
    int[] y = new int[120];
    INDArray x = Nd4j.create(sample(rnd, 120, w, offsets, scales, y));
    int[] yTest = new int[6000];
    INDArray xTest = Nd4j.create(sample(rnd, 6000, w, offsets, scales, yTest));

    SoftmaxRegression.Options opts = SoftmaxRegression.Options.defaults();
    SoftmaxRegression.Selection s = SoftmaxRegression.select(x, y, k, null, null, null, opts);
    double chosen = testLoss(s.fit(), xTest, yTest);
    double best = Double.POSITIVE_INFINITY;
    double bestL2 = Double.NaN;
    double worst = 0;
    for (double l2 : opts.grid()) {
      double t =
          testLoss(SoftmaxRegression.fit(x, y, k, null, l2, opts.searchSolver()), xTest, yTest);
      if (t < best) {
        best = t;
        bestL2 = l2;
      }
      worst = Math.max(worst, t);
    }
    assertTrue(
        chosen <= best + 0.1 * (worst - best),
        "chosen l2 "
            + s.fit().l2()
            + " test loss "
            + chosen
            + ", best "
            + bestL2
            + " "
            + best
            + ", worst "
            + worst);
    assertTrue(s.method().contains("5-fold"), s.method());
  }

  @Test
  void pureNoiseLabelsGetTheStrongestPenalty() {
    Random rnd = new Random(5);
    int n = 100;
    double[][] x = new double[n][20];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 20; j++) {
        x[i][j] = rnd.nextGaussian();
      }
      y[i] = i % 3;
    }
    SoftmaxRegression.Selection s =
        SoftmaxRegression.select(
            Nd4j.create(x), y, 3, null, null, null, SoftmaxRegression.Options.defaults());
    assertTrue(s.fit().l2() >= 1, "l2 " + s.fit().l2());
  }

  @Test
  void cleanSeparableSignalGetsAWeakPenalty() {
    Random rnd = new Random(9);
    int f = 5;
    int k = 3;
    int[] y = new int[600];
    double[] ones = {1, 1, 1, 1, 1};
    double[][] x = sample(rnd, 600, randomWeights(rnd, f, k, 6), new double[f], ones, y);
    SoftmaxRegression.Selection s =
        SoftmaxRegression.select(
            Nd4j.create(x), y, k, null, null, null, SoftmaxRegression.Options.defaults());
    assertTrue(s.fit().l2() <= 1e-2, "l2 " + s.fit().l2());
  }

  @Test
  void aValidationSetChoosesInsteadOfFolds() {
    Random rnd = new Random(2);
    double[][] w = randomWeights(rnd, 6, 2, 1);
    double[] ones = {1, 1, 1, 1, 1, 1};
    int[] y = new int[80];
    int[] yv = new int[80];
    INDArray x = Nd4j.create(sample(rnd, 80, w, new double[6], ones, y));
    INDArray xv = Nd4j.create(sample(rnd, 80, w, new double[6], ones, yv));
    SoftmaxRegression.Selection s =
        SoftmaxRegression.select(x, y, 2, null, xv, yv, SoftmaxRegression.Options.defaults());
    assertTrue(s.method().contains("validation"), s.method());
    assertTrue(s.strengths().length >= 4);
  }

  @Test
  void deterministic() {
    Random rnd = new Random(4);
    int[] y = new int[50];
    double[][] x = sample(rnd, 50, randomWeights(rnd, 8, 3, 1), new double[8], fill(8, 2), y);
    var a =
        SoftmaxRegression.select(
            Nd4j.create(x), y, 3, null, null, null, SoftmaxRegression.Options.defaults());
    var b =
        SoftmaxRegression.select(
            Nd4j.create(x), y, 3, null, null, null, SoftmaxRegression.Options.defaults());
    assertEquals(a.fit().l2(), b.fit().l2());
    assertEquals(a.fit().weights()[3][1], b.fit().weights()[3][1]);
  }

  @Test
  void oneExamplePerClassFallsBackToAFixedStrength() {
    INDArray x = Nd4j.create(new double[][] {{0, 1}, {1, 0}, {2, 2}});
    SoftmaxRegression.Selection s =
        SoftmaxRegression.select(
            x, new int[] {0, 1, 2}, 3, null, null, null, SoftmaxRegression.Options.defaults());
    assertEquals(SoftmaxRegression.FALLBACK_L2, s.fit().l2());
    assertTrue(s.method().contains("fewer than 2"));
  }

  @Test
  void refusesBadInput() {
    INDArray x = Nd4j.zeros(DataType.FLOAT, 3, 2);
    assertThrows(
        GraftException.class,
        () -> SoftmaxRegression.fit(x, new int[] {0, 1}, 2, null, 1, Lbfgs.Settings.defaults()));
    assertThrows(
        GraftException.class,
        () -> SoftmaxRegression.fit(x, new int[] {0, 1, 5}, 2, null, 1, Lbfgs.Settings.defaults()));
    INDArray nan = Nd4j.create(new double[][] {{Double.NaN, 1}, {0, 1}});
    assertThrows(
        GraftException.class,
        () -> SoftmaxRegression.fit(nan, new int[] {0, 1}, 2, null, 1, Lbfgs.Settings.defaults()));
  }

  private static double[] fill(int n, double v) {
    double[] a = new double[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  private static double testLoss(SoftmaxRegression.Fit fit, INDArray x, int[] y) {
    double[][] logits =
        x.castTo(DataType.DOUBLE)
            .mmul(Nd4j.create(fit.weights()))
            .addiRowVector(Nd4j.create(fit.bias()))
            .toDoubleMatrix();
    double loss = 0;
    for (int i = 0; i < y.length; i++) {
      double[] z = logits[i];
      double max = Double.NEGATIVE_INFINITY;
      for (double v : z) {
        max = Math.max(max, v);
      }
      double s = 0;
      for (double v : z) {
        s += Math.exp(v - max);
      }
      loss -= z[y[i]] - max - Math.log(s);
    }
    return loss / y.length;
  }

  /** A final fit that starts converged (the search fitted all rows) is not "0 iterations". */
  @org.junit.jupiter.api.Test
  void theFinalFitIsNeverZeroIterations() {
    String zero = SoftmaxRegression.finalFitWords(0);
    org.junit.jupiter.api.Assertions.assertFalse(zero.matches(".*\\b0 (more )?iterations.*"), zero);
    org.junit.jupiter.api.Assertions.assertTrue(zero.contains("already converged"), zero);
    org.junit.jupiter.api.Assertions.assertTrue(
        SoftmaxRegression.finalFitWords(12).contains("12 more L-BFGS iterations"));
  }
}
