package dev.graft.head;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LbfgsTest {

  @Test
  void findsTheRosenbrockMinimum() {
    Lbfgs.Objective rosen =
        (x, g) -> {
          double a = 1 - x[0];
          double b = x[1] - x[0] * x[0];
          g[0] = -2 * a - 400 * x[0] * b;
          g[1] = 200 * b;
          return a * a + 100 * b * b;
        };
    Lbfgs.Result r =
        Lbfgs.minimize(rosen, new double[] {-1.2, 1}, new Lbfgs.Settings(500, 1e-10, 0, 10));
    assertTrue(r.converged(), "converged");
    assertEquals(1, r.x()[0], 1e-6);
    assertEquals(1, r.x()[1], 1e-6);
    assertTrue(r.iterations() < 100, "iterations " + r.iterations());
  }

  @Test
  void solvesAnIllConditionedQuadratic() {
    int n = 50;
    double[] scale = new double[n];
    for (int i = 0; i < n; i++) {
      scale[i] = Math.pow(10, 4.0 * i / (n - 1)); // condition number 1e4
    }
    Lbfgs.Objective q =
        (x, g) -> {
          double f = 0;
          for (int i = 0; i < n; i++) {
            double d = x[i] - i;
            f += 0.5 * scale[i] * d * d;
            g[i] = scale[i] * d;
          }
          return f;
        };
    Lbfgs.Result r = Lbfgs.minimize(q, new double[n], new Lbfgs.Settings(2000, 1e-8, 0, 10));
    assertTrue(r.converged());
    for (int i = 0; i < n; i++) {
      assertEquals(i, r.x()[i], 1e-6, "x[" + i + "]");
    }
  }

  @Test
  void startingAtTheMinimumStopsAtOnce() {
    Lbfgs.Result r =
        Lbfgs.minimize(
            (x, g) -> {
              g[0] = 2 * x[0];
              return x[0] * x[0];
            },
            new double[] {0},
            Lbfgs.Settings.defaults());
    assertEquals(0, r.iterations());
    assertTrue(r.converged());
  }
}
