package dev.graft.bench;

import dev.graft.base.inception.InceptionV3;
import dev.graft.graph.InferenceGraphs;
import dev.graft.perf.NativeTuning;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.model.ResNet50;
import org.deeplearning4j.zoo.model.VGG16;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Benchmark driver (not part of the library; compiled only with {@code -Pbench}).
 *
 * <pre>
 * forward MODEL[,MODEL...] [VARIANT,...]   one child process per (variant, round), interleaved;
 *                                          variant torch runs src/bench/python/forward_peer.py
 * profile MODEL                            per-vertex forward profile
 * child ENGINE MODEL                       one measurement (used by forward)
 * </pre>
 *
 * System properties: batch (16), size (per model), iters (3), warmup (1), rounds (2).
 */
public final class Bench {
  private Bench() {}

  /** A measured configuration: engine plus the JVM options of its child process. */
  record Variant(String name, String engine, List<String> jvm, String what) {}

  static final Map<String, Variant> VARIANTS = new LinkedHashMap<>();

  static {
    String ext = NativeTuning.PLATFORM_EXTENSION;
    add(
        new Variant(
            "dl4j",
            "dl4j",
            List.of("-D" + ext + "="),
            "DL4J zoo graph, output(), generic natives, helpers off (DL4J default)"));
    add(
        new Variant(
            "dl4j-helpers",
            "dl4j",
            List.of("-D" + ext + "=", "-Dbench.helpers=true"),
            "+ oneDNN layer helpers (shim), generic natives"));
    add(
        new Variant(
            "dl4j-avx512",
            "dl4j",
            List.of("-D" + ext + "=-avx512"),
            "generic DL4J, avx512 natives, helpers off"));
    add(
        new Variant(
            "dl4j-onednn",
            "dl4j",
            List.of("-D" + ext + "=-onednn-avx512", "-Dbench.helpers=true"),
            "onednn-avx512 natives + helpers"));
    add(
        new Variant(
            "fold-generic",
            "dl4j",
            List.of("-D" + ext + "=", "-Dbench.fold=true"),
            "BN folded + activations fused, generic natives"));
    add(
        new Variant(
            "graft",
            "dl4j",
            List.of("-Dbench.tuning=true", "-Dbench.fold=true"),
            "Graft: NativeTuning.apply() + InferenceGraphs.optimize(), outputSingle"));
    add(
        new Variant(
            "graft-nchw",
            "dl4j",
            List.of("-Dbench.tuning=true", "-Dbench.fold=true", "-Dgraft.inference.nhwc=false"),
            "Graft's graph kept in NCHW (-Dgraft.inference.nhwc=false)"));
    add(
        new Variant(
            "graft-wsnone",
            "dl4j",
            List.of("-Dbench.tuning=true", "-Dbench.fold=true", "-Dbench.ws=NONE"),
            "Graft with WorkspaceMode.NONE"));
    for (String build : List.of("", "-onednn", "-onednn-avx512")) {
      add(
          new Variant(
              "graft" + (build.isEmpty() ? "-generic" : build),
              "dl4j",
              List.of("-D" + ext + "=" + build, "-Dbench.tuning=true", "-Dbench.fold=true"),
              "Graft's graph on the linux-x86_64" + build + " natives"));
    }
    add(
        new Variant(
            "torch",
            "torch",
            List.of(),
            "PyTorch (/usr/bin/python3, Debian's python3-torch), src/bench/python/forward_peer.py"));
    add(
        new Variant(
            "djl",
            "djl",
            List.of(),
            "DJL 0.36 + PyTorch 2.7.1 (CPU), same architecture, random weights"));
  }

  private static void add(Variant v) {
    VARIANTS.put(v.name(), v);
  }

  static int defaultSize(String model) {
    return model.equals("inceptionv3") ? 299 : 224;
  }

  static ComputationGraph model(String name, int size) {
    return switch (name) {
        // the catalog's graph, what users run: stage 2 at stride 1 as in Keras and torchvision
        // (8.2 GFLOP per image with its 1000-class top at 224 px)
      case "resnet50" -> dev.graft.base.Architecture.RESNET50.build(size, 42, size == 224);
        // DL4J's zoo graph, which earlier figures used: stage 2 at stride 2, 2.2 GFLOP per image
      case "resnet50-zoo" ->
          ResNet50.builder().numClasses(1000).inputShape(new int[] {3, size, size}).build().init();
      case "vgg16" ->
          VGG16.builder().numClasses(1000).inputShape(new int[] {3, size, size}).build().init();
      case "inceptionv3" -> InceptionV3.build(size, 42);
      case "mobilenetv2" -> dev.graft.base.Architecture.MOBILENET_V2.build(size, 42);
      case "efficientnetb0" -> dev.graft.base.Architecture.EFFICIENTNET_B0.build(size, 42);
        // the PyTorch-ecosystem bases (resnet50-torchvision, convnext-tiny, vit-b16, dinov2-*)
      default -> dev.graft.base.Architecture.named(name).build(size, 42);
    };
  }

  static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "forward" -> forward(args);
      case "child" -> child(args[1], args[2]);
      case "profile" -> profile(args[1]);
      case "featurize" -> Featurize.main(Arrays.copyOfRange(args, 1, args.length));
      case "epochs" -> Epochs.main(Arrays.copyOfRange(args, 1, args.length));
      case "train" -> TrainBench.main(args);
      case "checkpoint" -> dev.graft.train.CheckpointCost.main(args);
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  // ------------------------------------------------------------------------------ child side

  static void child(String engine, String modelName) throws Exception {
    int batch = Integer.getInteger("batch", 16);
    int size = Integer.getInteger("size", defaultSize(modelName));
    int iters = Integer.getInteger("iters", 3);
    int warmup = Integer.getInteger("warmup", 1);
    double ips;
    double cpuIps;
    String detail;
    if (engine.equals("djl")) {
      double[] r = DjlPeer.run(modelName, batch, size, warmup, iters);
      ips = r[0];
      cpuIps = r[1];
      detail = "";
    } else {
      if (Boolean.getBoolean("bench.tuning")) {
        NativeTuning.apply();
      }
      if (Boolean.getBoolean("bench.helpers")) {
        System.setProperty(NativeTuning.HELPERS_DISABLE, "false");
      }
      ComputationGraph g = model(modelName, size);
      boolean fold = Boolean.getBoolean("bench.fold");
      if (fold) {
        g = InferenceGraphs.optimize(g);
      }
      String ws = System.getProperty("bench.ws");
      if (ws != null) {
        g.getConfiguration().setInferenceWorkspaceMode(WorkspaceMode.valueOf(ws));
      }
      INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
      for (int i = 0; i < warmup; i++) {
        run(g, x, fold);
      }
      long t0 = System.nanoTime();
      long c0 = cpuNanos();
      for (int i = 0; i < iters; i++) {
        run(g, x, fold);
      }
      ips = iters * batch / ((System.nanoTime() - t0) / 1e9);
      cpuIps = cpuIps(iters * batch, c0);
      detail =
          "gflop="
              + String.format(Locale.ROOT, "%.4f", gflopPerImage(g, size))
              + " oneDNN="
              + NativeTuning.oneDnnAvailable()
              + " ext="
              + System.getProperty(NativeTuning.PLATFORM_EXTENSION, "");
    }
    System.out.printf(
        Locale.ROOT,
        "RESULT ips=%.3f cpuips=%.3f rss=%d load=%s %s%n",
        ips,
        cpuIps,
        peakRssMb(),
        load(),
        detail);
  }

  /** CPU time of this process (all threads), nanoseconds. */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * Throughput the process would reach with all cores to itself: images per CPU-second times the
   * core count. A load-robust estimate on a shared machine (assumes the work scales to all cores).
   */
  static double cpuIps(int images, long cpuStart) {
    double cpuSeconds = (cpuNanos() - cpuStart) / 1e9;
    return images / cpuSeconds * Runtime.getRuntime().availableProcessors();
  }

  private static void run(ComputationGraph g, INDArray x, boolean single) {
    // the transformers' graphs have two outputs (pool, pool_cls_mean): output() for them
    if (single && g.getNumOutputArrays() == 1) {
      try (INDArray out = g.outputSingle(false, x)) {
        out.sumNumber();
      }
    } else {
      g.output(x);
    }
  }

  // ----------------------------------------------------------------------------- driver side

  static void forward(String[] args) throws Exception {
    List<String> models = List.of(args[1].split(","));
    List<String> variants =
        args.length > 2 ? List.of(args[2].split(",")) : List.of("graft", "torch");
    int rounds = Integer.getInteger("rounds", 2);
    String cp = System.getProperty("java.class.path");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    System.out.printf(
        Locale.ROOT,
        "# forward throughput, batch=%s iters=%s warmup=%s rounds=%d, %s cores, load at start %s%n",
        Integer.getInteger("batch", 16),
        Integer.getInteger("iters", 3),
        Integer.getInteger("warmup", 1),
        rounds,
        Runtime.getRuntime().availableProcessors(),
        load());
    System.out.printf(
        Locale.ROOT,
        "# CPU: %s; flags: %s; FP32 peak taken as %.0f GFLOP/s (%s)%n",
        cpuInfo("model name"),
        simdFlags(),
        peakGflops(),
        System.getProperty("peak.gflops") != null
            ? "-Dpeak.gflops"
            : "cores x MHz x " + flopsPerCycle() + " FLOP/cycle; -Dpeak.gflops overrides");
    for (String model : models) {
      Map<String, List<double[]>> results = new LinkedHashMap<>();
      for (int r = 0; r < rounds; r++) {
        for (String vn : variants) {
          Variant v = VARIANTS.get(vn);
          if (v == null) {
            throw new IllegalArgumentException(
                "unknown variant " + vn + "; known: " + VARIANTS.keySet());
          }
          if (v.engine().equals("djl") && model.equals("inceptionv3")) {
            continue; // no InceptionV3 builder in DJL's basic model zoo
          }
          if (v.engine().equals("torch") && !torchPresent()) {
            continue;
          }
          List<String> cmd = v.engine().equals("torch") ? torchCommand(model) : new ArrayList<>();
          if (!cmd.isEmpty()) {
            double[] res = runChild(cmd);
            results.computeIfAbsent(vn, k -> new ArrayList<>()).add(res);
            printRound(model, vn, r, res);
            continue;
          }
          cmd.addAll(
              List.of(
                  java,
                  "-Xmx" + System.getProperty("childXmx", "3g"),
                  "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                  "-Dai.djl.offline=true"));
          for (String p : List.of("batch", "size", "iters", "warmup")) {
            if (System.getProperty(p) != null) {
              cmd.add("-D" + p + "=" + System.getProperty(p));
            }
          }
          cmd.addAll(v.jvm());
          if (System.getProperty("threads") != null) {
            cmd.add("-Dai.djl.pytorch.num_threads=" + System.getProperty("threads"));
            cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
          }
          cmd.addAll(List.of("-cp", cp, Bench.class.getName(), "child", v.engine(), model));
          double[] res = runChild(cmd);
          results.computeIfAbsent(vn, k -> new ArrayList<>()).add(res);
          printRound(model, vn, r, res);
        }
      }
      printTable(model, rounds, results);
    }
  }

  private static void printRound(String model, String variant, int round, double[] res) {
    System.out.printf(
        Locale.ROOT,
        "  %s %-14s round %d: %.2f images/s wall, %.2f images/s by CPU time, peak RSS %d MB, load %.1f%n",
        model,
        variant,
        round,
        res[0],
        res[3],
        (long) res[1],
        res[2]);
  }

  private static void printTable(String model, int rounds, Map<String, List<double[]>> results) {
    // the same architecture on every engine: the work per image is the Graft child's count
    double gflop =
        results.values().stream().flatMap(List::stream).mapToDouble(a -> a[4]).max().orElse(0);
    double peak = peakGflops();
    System.out.printf(
        Locale.ROOT,
        "%n| model | variant | images/s wall (best of %d) | images/s by CPU time | vs torch (wall / CPU) | vs dl4j (wall / CPU) | GFLOP/s wall | share of FP32 peak | peak RSS MB | load |%n|---|---|---|---|---|---|---|---|---|---|%n",
        rounds);
    for (var e : results.entrySet()) {
      double b = best(e.getValue(), 0);
      double c = best(e.getValue(), 3);
      double rss = e.getValue().stream().mapToDouble(a -> a[1]).max().orElse(0);
      double ld = e.getValue().stream().mapToDouble(a -> a[2]).average().orElse(0);
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.2f | %.2f | %s | %s | %.1f | %.1f %% | %.0f | %.1f |%n",
          model,
          e.getKey(),
          b,
          c,
          ratio(b, c, results.get("torch")),
          ratio(b, c, results.get("dl4j")),
          b * gflop,
          peak > 0 ? 100 * b * gflop / peak : 0,
          rss,
          ld);
    }
    System.out.printf(
        Locale.ROOT,
        "%.3f GFLOP per image (convolutions and dense layers, 2 FLOP per multiply-add)%n%n",
        gflop);
  }

  private static String ratio(double wall, double cpu, List<double[]> peer) {
    double w = best(peer, 0);
    double c = best(peer, 3);
    return w > 0 ? String.format(Locale.ROOT, "%.2fx / %.2fx", wall / w, cpu / c) : "-";
  }

  /** The first value of {@code key} in /proc/cpuinfo, or "?". */
  static String cpuInfo(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith(key) && line.contains(":")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      return "?";
    }
    return "?";
  }

  /** The SIMD flags that decide the kernels (FMA, AVX2, AVX-512 and its BF16/VNNI, AMX). */
  static String simdFlags() {
    List<String> keep = new ArrayList<>();
    for (String f : cpuInfo("flags").split(" ")) {
      if (f.equals("fma") || f.equals("avx2") || f.startsWith("avx512") || f.startsWith("amx")) {
        keep.add(f);
      }
    }
    return String.join(" ", keep);
  }

  /**
   * FP32 FLOP per cycle and core: two FMA pipes of 16 lanes with AVX-512 (Intel, AMD Zen 5), of 8
   * lanes with AVX2 or on Zen 4 (family 25), whose AVX-512 runs on 256-bit pipes.
   */
  static int flopsPerCycle() {
    String flags = " " + cpuInfo("flags") + " ";
    boolean zen4 =
        cpuInfo("vendor_id").equals("AuthenticAMD") && cpuInfo("cpu family").equals("25");
    if (flags.contains(" avx512f ") && !zen4) {
      return 64;
    }
    return flags.contains(" fma ") ? 32 : 16;
  }

  /** The CPU's FP32 limit in GFLOP/s: cores x clock x FLOP per cycle, or -Dpeak.gflops. */
  static double peakGflops() {
    String p = System.getProperty("peak.gflops");
    if (p != null) {
      return Double.parseDouble(p);
    }
    double mhz;
    try {
      mhz = Double.parseDouble(cpuInfo("cpu MHz"));
    } catch (NumberFormatException e) {
      return 0;
    }
    return Runtime.getRuntime().availableProcessors() * mhz / 1000 * flopsPerCycle();
  }

  /**
   * FLOP of one image's forward pass at {@code size}: 2 per multiply-add of the convolutions
   * (depthwise ones per channel) and dense layers, read from the graph's layer shapes.
   */
  static double gflopPerImage(ComputationGraph g, int size) {
    var conf = g.getConfiguration();
    Map<String, InputType> types =
        conf.getLayerActivationTypes(InputType.convolutional(size, size, 3));
    double flop = 0;
    for (var e : conf.getVertices().entrySet()) {
      if (!(e.getValue() instanceof LayerVertex lv)) {
        continue;
      }
      var layer = lv.getLayerConf().getLayer();
      if (layer instanceof ConvolutionLayer c
          && types.get(e.getKey()) instanceof InputType.InputTypeConvolutional out) {
        double perPixel =
            (double) c.getNOut()
                * c.getKernelSize()[0]
                * c.getKernelSize()[1]
                * (c instanceof DepthwiseConvolution2D ? 1 : c.getNIn());
        flop += 2 * perPixel * out.getHeight() * out.getWidth();
      } else if (layer instanceof FeedForwardLayer f && !(layer instanceof ConvolutionLayer)) {
        flop += 2.0 * f.getNIn() * f.getNOut();
      }
    }
    return flop / 1e9;
  }

  /** Whether {@link #PYTHON} can import torch and torchvision (the PyTorch peer). */
  static boolean torchPresent() {
    if (torchPresent == null) {
      try {
        Process p =
            new ProcessBuilder(PYTHON, "-c", "import torch, torchvision")
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        torchPresent = p.waitFor() == 0;
      } catch (IOException e) {
        torchPresent = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        torchPresent = false;
      }
      if (!torchPresent) {
        System.out.println(
            "# no PyTorch peer: "
                + PYTHON
                + " cannot import torch, torchvision (apt-get install -y python3-torch"
                + " python3-torchvision)");
      }
    }
    return torchPresent;
  }

  private static Boolean torchPresent;

  /** The interpreter of the PyTorch peer: Debian's, which has python3-torch. */
  static final String PYTHON = System.getProperty("bench.python", "/usr/bin/python3");

  /** The PyTorch peer's command line: same model, batch, size and iterations as the Graft child. */
  static List<String> torchCommand(String model) {
    String script =
        System.getProperty("bench.peer", Path.of("src/bench/python/forward_peer.py").toString());
    return new ArrayList<>(
        List.of(
            PYTHON,
            script,
            model,
            String.valueOf(Integer.getInteger("batch", 16)),
            String.valueOf(Integer.getInteger("size", defaultSize(model))),
            String.valueOf(Integer.getInteger("warmup", 1)),
            String.valueOf(Integer.getInteger("iters", 3)),
            System.getProperty(
                "threads", String.valueOf(Runtime.getRuntime().availableProcessors()))));
  }

  private static double best(List<double[]> l, int field) {
    return l == null ? 0 : l.stream().mapToDouble(a -> a[field]).max().orElse(0);
  }

  private static double[] runChild(List<String> cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    // no busy-waiting OpenMP threads (both engines): CPU time then measures work, not spinning
    pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
    String threads = System.getProperty("threads");
    if (threads != null) { // both engines: OpenMP (ND4J, PyTorch), MKL/OpenBLAS
      pb.environment().put("OMP_NUM_THREADS", threads);
      pb.environment().put("MKL_NUM_THREADS", threads);
      pb.environment().put("OPENBLAS_NUM_THREADS", threads);
    }
    Process p = pb.start();
    double[] res = {0, 0, 0, 0, 0};
    StringBuilder all = new StringBuilder();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        all.append(line).append('\n');
        if (line.startsWith("RESULT ")) {
          for (String kv : line.substring(7).split(" ")) {
            String[] a = kv.split("=", 2);
            switch (a[0]) {
              case "ips" -> res[0] = Double.parseDouble(a[1]);
              case "rss" -> res[1] = Double.parseDouble(a[1]);
              case "load" -> res[2] = Double.parseDouble(a[1]);
              case "cpuips" -> res[3] = Double.parseDouble(a[1]);
              case "gflop" -> res[4] = Double.parseDouble(a[1]);
              default -> {}
            }
          }
        }
      }
    }
    int rc = p.waitFor();
    if (rc != 0 || res[0] == 0) {
      System.out.println(
          "child failed (rc="
              + rc
              + "): "
              + String.join(" ", cmd.subList(cmd.size() - 3, cmd.size())));
      String s = all.toString();
      System.out.println(s.substring(Math.max(0, s.length() - 3000)));
    }
    return res;
  }

  // ---------------------------------------------------------------------------------- profile

  static void profile(String modelName) {
    if (Boolean.getBoolean("bench.tuning")) {
      NativeTuning.apply();
    }
    int batch = Integer.getInteger("batch", 16);
    int size = Integer.getInteger("size", defaultSize(modelName));
    ComputationGraph g = model(modelName, size);
    if (Boolean.getBoolean("bench.fold")) {
      g = InferenceGraphs.optimize(g);
    } else if (Boolean.getBoolean("bench.helpers")) {
      System.setProperty(NativeTuning.HELPERS_DISABLE, "false");
      g = model(modelName, size);
    }
    INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
    g.outputSingle(false, x);
    var rows = Profile.run(g, x, Integer.getInteger("iters", 2));
    System.out.printf(
        Locale.ROOT,
        "# profile %s batch=%d size=%d ext=%s oneDNN=%s load=%s%n",
        modelName,
        batch,
        size,
        System.getProperty(NativeTuning.PLATFORM_EXTENSION, ""),
        NativeTuning.oneDnnAvailable(),
        load());
    System.out.println(Profile.summary(rows, 12));
    System.out.println("peak RSS " + peakRssMb() + " MB");
  }
}
