package dev.graft.bench;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.data.ResizeMode;
import dev.graft.features.FeatureKey;
import dev.graft.graph.Rebuild;
import dev.graft.head.Head;
import dev.graft.perf.NativeTuning;
import dev.graft.strategy.GraphOptions;
import dev.graft.strategy.Strategy;
import dev.graft.strategy.TrainingPlan;
import dev.graft.strategy.TransferGraph;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training throughput of Graft's fine-tuning path, side by side with PyTorch in one run ({@code
 * Bench train MODEL [ROW,...]}). Each row trains what the fine-tune strategy trains, built by
 * Graft's own {@link TrainingPlan}: the last phase's trainable part, fed random boundary
 * activations of the right shape (as the activation cache feeds it), Adam, BatchNorm in inference
 * mode, batch 16 at 224 px. Rows:
 *
 * <pre>
 * resnet50: bottleneck (res5c + head, unfreezeLast(3)), all (every layer, images in)
 * mobilenetv2, efficientnetb0: block (the last inverted residual / MBConv block, the top 1x1
 *     convolution and the head: fromBlock("block_16") / fromBlock("block7a"))
 * </pre>
 *
 * <p>Engines, interleaved round by round: {@code dl4j} (DL4J's own layers: the training path before
 * oneDNN), {@code graft} (Graft's training path: {@link Rebuild#instantiateForTraining}), and
 * {@code pytorch} ({@code src/bench/python/train_peer.py} under {@code /usr/bin/python3}, skipped
 * when torch is absent). System properties: batch (16), size (224), iters (5), warmup (2), rounds
 * (2), peak.gflops (the CPU's FP32 peak for both cores; default by its flags), engines (which of
 * dl4j,graft,pytorch to run; all three by default: DL4J's own layers take minutes on the
 * whole-network row), jit.seconds (0: how long Graft's network trains, once per row, before the
 * rounds, so that the JVM's compilers are done: on two cores C2 compiles DL4J's code for 10-20 s,
 * competing with the training threads, which a fine-tuning run of minutes is long past).
 *
 * <p>Besides the best round of each engine it prints the median of the per-round ratios (Graft's
 * round over PyTorch's round run just after it), which the machine's drift between rounds moves
 * less than the ratio of two best rounds.
 */
final class TrainBench {
  private TrainBench() {}

  record Row(String model, String name, Strategy strategy, String peerRow) {}

  static List<Row> rows(String model) {
    return switch (model) {
      case "resnet50" ->
          List.of(
              new Row(
                  model, "bottleneck", Strategy.fineTune().unfreezeLast(3), "resnet50-bottleneck"),
              new Row(model, "all", Strategy.fineTune().unfreezeLastBlocks(5), "resnet50-all"));
      case "mobilenetv2" ->
          List.of(
              new Row(
                  model, "block", Strategy.fineTune().fromBlock("block_16"), "mobilenetv2-block"));
      case "efficientnetb0" ->
          List.of(
              new Row(
                  model,
                  "block",
                  Strategy.fineTune().fromBlock("block7a"),
                  "efficientnetb0-block"));
      default -> throw new IllegalArgumentException("no training rows for " + model);
    };
  }

  static void main(String[] args) throws Exception {
    NativeTuning.apply();
    String model = args.length > 1 ? args[1] : "resnet50";
    List<String> only = args.length > 2 ? List.of(args[2].split(",")) : List.of();
    int batch = Integer.getInteger("batch", 16);
    int size = Integer.getInteger("size", 224);
    int iters = Integer.getInteger("iters", 5);
    int warmup = Integer.getInteger("warmup", 2);
    int rounds = Integer.getInteger("rounds", 2);
    double peak = Bench.peakGflops();
    List<String> engines = List.of(System.getProperty("engines", "dl4j,graft,pytorch").split(","));
    Base base = Bases.catalog(model).weights(Weights.none()).inputSize(size).load();
    System.out.printf(
        Locale.ROOT,
        "# train %s %d px, batch %d, %d iters x %d rounds; oneDNN %s; CPU flags: %s; load %s%n",
        model,
        size,
        batch,
        iters,
        rounds,
        NativeTuning.oneDnnAvailable(),
        Bench.simdFlags(),
        Bench.load());
    System.out.printf(
        Locale.ROOT,
        "%-11s %-8s %10s %10s %8s %9s %8s %s%n",
        "row",
        "engine",
        "img/s",
        "img/s cpu",
        "GFLOP/s",
        "% of peak",
        "x torch",
        "what trains");
    boolean peer = peerAvailable();
    for (Row row : rows(model)) {
      if (!only.isEmpty() && !only.contains(row.name())) {
        continue;
      }
      TransferGraph tg =
          TransferGraph.assemble(
              base, Head.averagePooling(), row.strategy(), GraphOptions.of(4).withEpochs(2));
      TrainingPlan plan = tg.plan(true, FeatureKey.Input.of(base, ResizeMode.CENTER_CROP));
      TrainingPlan.Step last = plan.steps().get(plan.steps().size() - 1);
      MultiDataSet ds = inputs(plan, last, base, batch);
      double gflop =
          3 * forwardGflop(plan.trainablePart(last.phase(), last.feed().trainable(), 0), ds);
      String what =
          last.phase().trainable().size()
              + " layers from "
              + last.feed().trainable().inputs()
              + " "
              + java.util.Arrays.toString(ds.getFeatures(0).shape());
      long jitSeconds = Long.getLong("jit.seconds", 0);
      if (jitSeconds > 0 && engines.contains("graft")) {
        ComputationGraph warm = plan.trainablePart(last.phase(), last.feed().trainable(), 0);
        long until = System.nanoTime() + jitSeconds * 1_000_000_000L;
        int steps = 0;
        while (System.nanoTime() < until) {
          warm.fit(ds);
          steps++;
        }
        System.out.printf(Locale.ROOT, "# JVM warm-up: %d steps in %d s%n", steps, jitSeconds);
      }
      double[][] best = new double[3][];
      List<Double> paired = new java.util.ArrayList<>();
      for (int r = 0; r < rounds; r++) {
        double graftRound = Double.NaN;
        for (String engine : List.of("dl4j", "graft", "pytorch")) {
          if (!engines.contains(engine)) {
            continue;
          }
          double[] m;
          if (engine.equals("pytorch")) {
            if (!peer) {
              continue;
            }
            m = runPeer(row.peerRow(), batch, iters, warmup);
          } else {
            ComputationGraph net =
                engine.equals("graft")
                    ? plan.trainablePart(last.phase(), last.feed().trainable(), 0)
                    : Rebuild.instantiate(
                        plan.trainablePart(last.phase(), last.feed().trainable(), 0)
                            .getConfiguration(),
                        plan.network(),
                        42);
            m = measure(net, ds, batch, iters, warmup);
          }
          int i = List.of("dl4j", "graft", "pytorch").indexOf(engine);
          if (best[i] == null || m[0] > best[i][0]) {
            best[i] = m;
          }
          if (i == 1) {
            graftRound = m[0];
          } else if (i == 2 && !Double.isNaN(graftRound)) {
            paired.add(graftRound / m[0]);
          }
        }
      }
      for (int i = 0; i < 3; i++) {
        if (best[i] == null) {
          continue;
        }
        double ips = best[i][0];
        double gflops = ips / batch * gflop;
        System.out.printf(
            Locale.ROOT,
            "%-11s %-8s %10.2f %10.2f %8.1f %8.0f%% %8s %s%n",
            row.name(),
            List.of("dl4j", "graft", "pytorch").get(i),
            ips,
            best[i][1],
            gflops,
            100 * gflops / peak,
            best[2] == null ? "-" : String.format(Locale.ROOT, "%.2f", ips / best[2][0]),
            i == 2 ? "torchvision " + row.peerRow() : what);
      }
      if (!paired.isEmpty()) {
        List<Double> sorted = new java.util.ArrayList<>(paired);
        java.util.Collections.sort(sorted);
        double median =
            sorted.size() % 2 == 1
                ? sorted.get(sorted.size() / 2)
                : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        StringBuilder each = new StringBuilder();
        for (double d : paired) {
          each.append(String.format(Locale.ROOT, " %.2f", d));
        }
        System.out.printf(
            Locale.ROOT,
            "%-11s graft / pytorch round by round:%s; median %.2f%n",
            row.name(),
            each,
            median);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "FP32 peak %.0f GFLOP/s (cores x MHz x FLOP/cycle, or -Dpeak.gflops); peak RSS %d MB;"
            + " load %s%n",
        peak,
        Bench.peakRssMb(),
        Bench.load());
  }

  /** Random activations of the boundary's shapes, as the activation cache would hand them. */
  private static MultiDataSet inputs(
      TrainingPlan plan, TrainingPlan.Step last, Base base, int batch) {
    List<String> names = last.feed().trainable().inputs();
    int s = base.inputSize();
    INDArray image = Nd4j.rand(DataType.FLOAT, 1, 3, s, s);
    Map<String, INDArray> acts = plan.network().feedForward(new INDArray[] {image}, false, false);
    INDArray[] in = new INDArray[names.size()];
    for (int i = 0; i < in.length; i++) {
      INDArray a =
          names.get(i).equals(plan.network().getConfiguration().getNetworkInputs().get(0))
              ? image
              : acts.get(names.get(i));
      long[] shape = a.shape().clone();
      shape[0] = batch;
      in[i] = Nd4j.rand(DataType.FLOAT, shape);
    }
    INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, 4);
    for (int i = 0; i < batch; i++) {
      labels.putScalar(i, i % 4, 1);
    }
    return new MultiDataSet(in, new INDArray[] {labels});
  }

  /** {images/s wall, images/s by CPU time} for fit() on one batch, repeated. */
  private static double[] measure(
      ComputationGraph net, MultiDataSet ds, int batch, int iters, int warmup) {
    for (int i = 0; i < warmup; i++) {
      net.fit(ds);
    }
    long t0 = System.nanoTime();
    long c0 = Bench.cpuNanos();
    for (int i = 0; i < iters; i++) {
      net.fit(ds);
    }
    double ips = iters * batch / ((System.nanoTime() - t0) / 1e9);
    return new double[] {ips, Bench.cpuIps(iters * batch, c0)};
  }

  /** Forward GFLOP of one batch: convolutions and dense layers, a multiply-add counted as 2. */
  static double forwardGflop(ComputationGraph net, MultiDataSet ds) {
    Map<String, INDArray> acts = net.feedForward(ds.getFeatures(), false, false);
    double flop = 0;
    for (GraphVertex v : net.getVertices()) {
      if (!v.hasLayer()) {
        continue;
      }
      Layer l = dev.graft.graph.Layers.unwrap(v.getLayer().conf().getLayer());
      INDArray out = acts.get(v.getVertexName());
      if (out == null) {
        continue;
      }
      if (l instanceof ConvolutionLayer c) {
        long nIn = c.getNIn();
        long groups =
            l instanceof org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D ? nIn : 1;
        flop += 2.0 * out.length() * c.getKernelSize()[0] * c.getKernelSize()[1] * nIn / groups;
      } else if (l instanceof DenseLayer || l instanceof OutputLayer) {
        flop +=
            2.0 * out.length() * ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).getNIn();
      }
    }
    return flop / 1e9;
  }

  static boolean peerAvailable() {
    try {
      Process p =
          new ProcessBuilder("/usr/bin/python3", "-c", "import torch, torchvision")
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static double[] runPeer(String row, int batch, int iters, int warmup)
      throws IOException, InterruptedException {
    Path script = Path.of("src/bench/python/train_peer.py");
    if (!Files.exists(script)) {
      throw new IOException("run from the repository root: " + script + " not found");
    }
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.toString(), row));
    cmd.addAll(
        List.of(
            "--batch",
            "" + batch,
            "--iters",
            "" + iters,
            "--warmup",
            "" + warmup,
            "--threads",
            "2"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    double[] res = null;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("peer ")) {
          String[] a = line.split(" ");
          res = new double[] {Double.parseDouble(a[2]), Double.parseDouble(a[3])};
        }
      }
    }
    if (p.waitFor() != 0 || res == null) {
      throw new IOException("the PyTorch peer failed: " + cmd);
    }
    return res;
  }
}
