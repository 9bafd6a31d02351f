package dev.graft.bench;

import dev.graft.Graft;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.demo.DemoData;
import dev.graft.strategy.Strategy;
import dev.graft.train.LearningRateFinder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The learning-rate finder's cost, as the issue measured it: VGG16 (random weights) at 32 px, the
 * frozen strategy with VGG16's default head, 80 bundled digit images (8 classes of 10), the default
 * sweep of 100 steps. Prints, per run, the wall time and the main thread's CPU time of {@code
 * findLearningRate} alone (the base is built before), and the load average.
 *
 * <p>{@code java -cp $CP dev.graft.bench.LrFind [runs]} (docs/performance.md, "Learning-rate
 * finder").
 */
public final class LrFind {
  private LrFind() {}

  /** Runs the sweep {@code args[0]} times (default 2). */
  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Base vgg16 = Bases.vgg16().weights(Weights.none()).inputSize(32).load();
    Path dir = Files.createTempDirectory("lrfind-bench");
    ImageDataset data =
        ImageFolder.of(DemoData.load().extract(dir, List.of(1, 2, 3, 4, 5, 6, 7, 8), 0, 10));
    for (int i = 1; i <= runs; i++) {
      long cpu = mx.getCurrentThreadCpuTime();
      long wall = System.nanoTime();
      LearningRateFinder.Result r =
          Graft.base(vgg16).strategy(Strategy.frozen()).findLearningRate(data);
      System.out.printf(
          Locale.ROOT,
          "lr-find run %d: %d images at 32 px, %d steps: %.1f s wall, %.1f s main-thread CPU,"
              + " suggestion %.2e, load %s%n",
          i,
          data.size(),
          r.rates().length,
          (System.nanoTime() - wall) / 1e9,
          (mx.getCurrentThreadCpuTime() - cpu) / 1e9,
          r.suggestion(),
          Files.readString(Path.of("/proc/loadavg")).strip());
    }
  }
}
