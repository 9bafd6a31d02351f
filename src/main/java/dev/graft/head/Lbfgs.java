package dev.graft.head;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * Limited-memory BFGS with a strong-Wolfe line search (Nocedal and Wright, Numerical Optimization,
 * algorithms 7.4, 3.5 and 3.6): the full-batch minimiser behind {@link SoftmaxRegression}. Small on
 * purpose: the objective is smooth and convex, so no bounds, no restarts beyond dropping the memory
 * when a direction fails to descend.
 *
 * <pre>{@code
 * Lbfgs.Result r = Lbfgs.minimize((x, g) -> { ...; return f; }, x0, Lbfgs.Settings.defaults());
 * }</pre>
 *
 * <p>Deterministic: the same objective and start give the same iterates.
 */
public final class Lbfgs {
  private static final double C1 = 1e-4;
  private static final double C2 = 0.9;
  private static final int MAX_LINE_SEARCH = 30;

  private Lbfgs() {}

  /** A differentiable function of a vector. */
  @FunctionalInterface
  public interface Objective {
    /**
     * Evaluates the function at {@code x} and writes its gradient into {@code grad}.
     *
     * @return the value
     */
    double evaluate(double[] x, double[] grad);
  }

  /**
   * When to stop.
   *
   * @param maxIterations iterations at most
   * @param gradientTolerance stop when the largest gradient component is at most this
   * @param relativeDecrease stop when an iteration lowers the value by less than this fraction of
   *     its magnitude
   * @param memory correction pairs kept
   */
  public record Settings(
      int maxIterations, double gradientTolerance, double relativeDecrease, int memory) {
    /** 1000 iterations, gradient 1e-7, decrease 1e-13, memory 10. */
    public static Settings defaults() {
      return new Settings(1000, 1e-7, 1e-13, 10);
    }

    /** A copy with another iteration cap. */
    public Settings withMaxIterations(int n) {
      return new Settings(n, gradientTolerance, relativeDecrease, memory);
    }
  }

  /**
   * The outcome.
   *
   * @param x the minimiser found
   * @param value the function at {@code x}
   * @param iterations iterations run
   * @param evaluations function evaluations
   * @param converged whether a tolerance was met (false: the iteration cap or a failed line search
   *     stopped it)
   */
  public record Result(
      double[] x, double value, int iterations, int evaluations, boolean converged) {}

  /** Minimises {@code f} from {@code x0} (not modified). */
  public static Result minimize(Objective f, double[] x0, Settings s) {
    int n = x0.length;
    double[] x = x0.clone();
    double[] g = new double[n];
    double fx = f.evaluate(x, g);
    int evals = 1;
    Deque<double[][]> memory = new ArrayDeque<>();
    if (normInf(g) <= s.gradientTolerance()) {
      return new Result(x, fx, 0, evals, true);
    }
    int it = 0;
    boolean converged = false;
    while (it < s.maxIterations()) {
      it++;
      double[] d = direction(g, memory);
      double slope = dot(g, d);
      if (!(slope < 0)) {
        memory.clear();
        d = negate(g);
        slope = dot(g, d);
      }
      double step = memory.isEmpty() ? Math.min(1, 1 / norm2(g)) : 1;
      Point p = lineSearch(f, x, fx, d, slope, step);
      evals += p == null ? MAX_LINE_SEARCH : p.evaluations;
      if (p == null) {
        if (memory.isEmpty()) {
          break; // steepest descent cannot make progress either: numerically at the minimum
        }
        memory.clear();
        continue;
      }
      double[] sVec = new double[n];
      double[] yVec = new double[n];
      for (int i = 0; i < n; i++) {
        sVec[i] = p.x[i] - x[i];
        yVec[i] = p.g[i] - g[i];
      }
      double sy = dot(sVec, yVec);
      if (sy > 1e-12 * norm2(sVec) * norm2(yVec)) {
        memory.addLast(new double[][] {sVec, yVec, {1 / sy}});
        if (memory.size() > s.memory()) {
          memory.removeFirst();
        }
      }
      double decrease = fx - p.value;
      x = p.x;
      g = p.g;
      fx = p.value;
      if (normInf(g) <= s.gradientTolerance()
          || decrease <= s.relativeDecrease() * Math.max(1, Math.abs(fx))) {
        converged = true;
        break;
      }
    }
    return new Result(x, fx, it, evals, converged);
  }

  /** The two-loop recursion: minus the inverse-Hessian estimate times {@code g}. */
  private static double[] direction(double[] g, Deque<double[][]> memory) {
    double[] q = g.clone();
    int m = memory.size();
    double[] alpha = new double[m];
    int k = m - 1;
    for (Iterator<double[][]> it = memory.descendingIterator(); it.hasNext(); k--) {
      double[][] p = it.next();
      alpha[k] = p[2][0] * dot(p[0], q);
      axpy(-alpha[k], p[1], q);
    }
    if (m > 0) {
      double[][] last = memory.peekLast();
      double gamma = dot(last[0], last[1]) / dot(last[1], last[1]);
      for (int i = 0; i < q.length; i++) {
        q[i] *= gamma;
      }
    }
    k = 0;
    for (double[][] p : memory) {
      double beta = p[2][0] * dot(p[1], q);
      axpy(alpha[k] - beta, p[0], q);
      k++;
    }
    return negate(q);
  }

  /** A point on the search line. */
  private static final class Point {
    final double step;
    final double[] x;
    final double[] g;
    final double value;
    final double slope;
    int evaluations;

    Point(double step, double[] x, double[] g, double value, double slope) {
      this.step = step;
      this.x = x;
      this.g = g;
      this.value = value;
      this.slope = slope;
    }
  }

  private static Point at(Objective f, double[] x, double[] d, double step) {
    double[] xn = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      xn[i] = x[i] + step * d[i];
    }
    double[] gn = new double[x.length];
    double v = f.evaluate(xn, gn);
    return new Point(step, xn, gn, v, dot(gn, d));
  }

  /** A step meeting the strong Wolfe conditions, or null when none was found. */
  private static Point lineSearch(
      Objective f, double[] x, double f0, double[] d, double slope0, double step) {
    Point prev = new Point(0, x, null, f0, slope0);
    int evals = 0;
    Point bestDecrease = null;
    for (int i = 0; i < MAX_LINE_SEARCH; i++) {
      Point p = at(f, x, d, step);
      evals++;
      if (!Double.isFinite(p.value)) {
        step = (prev.step + step) / 2; // overflowed: come back towards the last finite point
        continue;
      }
      if (p.value > f0 + C1 * step * slope0 || (i > 0 && p.value >= prev.value)) {
        return zoom(f, x, d, f0, slope0, prev, p, evals, bestDecrease);
      }
      bestDecrease = p;
      if (Math.abs(p.slope) <= -C2 * slope0) {
        p.evaluations = evals;
        return p;
      }
      if (p.slope >= 0) {
        return zoom(f, x, d, f0, slope0, p, prev, evals, bestDecrease);
      }
      prev = p;
      step *= 2;
    }
    if (bestDecrease != null) {
      bestDecrease.evaluations = evals;
    }
    return bestDecrease;
  }

  private static Point zoom(
      Objective f,
      double[] x,
      double[] d,
      double f0,
      double slope0,
      Point lo,
      Point hi,
      int evals,
      Point fallback) {
    for (int i = 0; i < MAX_LINE_SEARCH; i++) {
      double a = cubicMinimum(lo, hi);
      double left = Math.min(lo.step, hi.step);
      double width = Math.abs(hi.step - lo.step);
      if (!(a > left + 0.1 * width && a < left + 0.9 * width)) {
        a = (lo.step + hi.step) / 2;
      }
      if (width <= 1e-16 * Math.max(1, Math.abs(left))) {
        break;
      }
      Point p = at(f, x, d, a);
      evals++;
      if (!Double.isFinite(p.value) || p.value > f0 + C1 * a * slope0 || p.value >= lo.value) {
        hi = p;
      } else {
        fallback = p;
        if (Math.abs(p.slope) <= -C2 * slope0) {
          p.evaluations = evals;
          return p;
        }
        if (p.slope * (hi.step - lo.step) >= 0) {
          hi = lo;
        }
        lo = p;
      }
    }
    if (fallback != null) {
      fallback.evaluations = evals;
    }
    return fallback;
  }

  /** The minimiser of the cubic through two points with their slopes (NaN when it has none). */
  private static double cubicMinimum(Point a, Point b) {
    double d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step);
    double disc = d1 * d1 - a.slope * b.slope;
    if (!(disc >= 0)) {
      return Double.NaN;
    }
    double d2 = Math.signum(b.step - a.step) * Math.sqrt(disc);
    return b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2);
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static void axpy(double a, double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) {
      y[i] += a * x[i];
    }
  }

  private static double[] negate(double[] v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = -v[i];
    }
    return r;
  }

  private static double norm2(double[] v) {
    return Math.sqrt(dot(v, v));
  }

  static double normInf(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
