package dev.graft.bench;

import dev.graft.perf.NativeTuning;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/** Scratch: raw conv2d / conv2d_bp throughput. */
final class OpProbe {
  public static void main(String[] args) throws Exception {
    NativeTuning.apply();
    int n = 16;
    int[][] shapes = {
      {512, 512, 3, 7, 0},
      {2048, 512, 1, 7, 0},
      {512, 2048, 1, 7, 0},
      {512, 512, 3, 7, 1},
      {2048, 512, 1, 7, 1}
    };
    for (int[] s : shapes) {
      int ci = s[0], co = s[1], k = s[2], hw = s[3];
      boolean nhwc = s[4] == 1;
      INDArray x = nhwc ? Nd4j.rand(n, hw, hw, ci) : Nd4j.rand(n, ci, hw, hw);
      INDArray w = Nd4j.rand(co, ci, k, k);
      INDArray y = nhwc ? Nd4j.create(n, hw, hw, co) : Nd4j.create(n, co, hw, hw);
      INDArray dx = x.ulike(), dw = w.ulike();
      int p = k / 2;
      int[] iargs = {k, k, 1, 1, p, p, 1, 1, 0, nhwc ? 1 : 0, 1};
      DynamicCustomOp fwd =
          DynamicCustomOp.builder("conv2d")
              .addInputs(x, w)
              .addOutputs(y)
              .addIntegerArguments(iargs)
              .build();
      DynamicCustomOp bwd =
          DynamicCustomOp.builder("conv2d_bp")
              .addInputs(x, w, y)
              .addOutputs(dx, dw)
              .addIntegerArguments(iargs)
              .build();
      double flops = 2.0 * n * hw * hw * co * ci * k * k;
      for (int r = 0; r < 2; r++) {
        Nd4j.exec(fwd);
        Nd4j.exec(bwd);
      }
      int it = 10;
      long c0 = Bench.cpuNanos();
      long t0 = System.nanoTime();
      for (int r = 0; r < it; r++) Nd4j.exec(fwd);
      double tf = (System.nanoTime() - t0) / 1e9 / it, cf = (Bench.cpuNanos() - c0) / 1e9 / it;
      c0 = Bench.cpuNanos();
      t0 = System.nanoTime();
      for (int r = 0; r < it; r++) Nd4j.exec(bwd);
      double tb = (System.nanoTime() - t0) / 1e9 / it, cb = (Bench.cpuNanos() - c0) / 1e9 / it;
      System.out.printf(
          Locale.ROOT,
          "%s %dx%d k%d: fwd %.1f ms (%.0f GF/s wall, %.0f GF/s per cpu-s) bwd %.1f ms (%.0f GF/s wall, %.0f per cpu-s)%n",
          nhwc ? "NHWC" : "NCHW",
          ci,
          co,
          k,
          tf * 1e3,
          flops / tf / 1e9,
          flops / cf / 1e9,
          tb * 1e3,
          2 * flops / tb / 1e9,
          2 * flops / cb / 1e9);
    }
    System.out.println("load " + Bench.load());
  }
}
