package dev.graft.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.model.ResNet50;
import org.deeplearning4j.zoo.model.VGG16;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Benchmark entry point; see docs/performance.md. */
public final class Bench {
  private Bench() {}

  static ComputationGraph model(String name, int size) {
    return switch (name) {
      case "resnet50" -> ResNet50.builder().numClasses(1000).inputShape(new int[] {3, size, size}).build().init();
      case "vgg16" -> VGG16.builder().numClasses(1000).inputShape(new int[] {3, size, size}).build().init();
      default -> throw new IllegalArgumentException("unknown model " + name);
    };
  }

  static long peakRssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  static String helpers(ComputationGraph g) {
    StringBuilder sb = new StringBuilder("mklDnnEnabled=" + org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled());
    for (var l : g.getLayers()) {
      Object h = null;
      if (l instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer c) h = c.getHelper();
      if (l instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization b) h = b.getHelper();
      if (h != null) { sb.append(" ").append(l.conf().getLayer().getLayerName()).append("->").append(h.getClass().getSimpleName()); break; }
    }
    return sb.toString();
  }

  static String env() {
    return "natives=" + System.getProperty("org.bytedeco.javacpp.platform.extension", System.getProperty("javacpp.platform.extension", "")) + " "
        + Nd4j.getExecutioner().getEnvironmentInformation();
  }

  public static void main(String[] args) throws Exception {
    String cmd = args[0];
    String model = args.length > 1 ? args[1] : "resnet50";
    int batch = Integer.getInteger("batch", 16);
    int size = Integer.getInteger("size", 224);
    int iters = Integer.getInteger("iters", 4);
    switch (cmd) {
      case "profile" -> {
        ComputationGraph g = model(model, size);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
        g.output(x);
        var rows = Profile.run(g, x, iters);
        System.out.println(env());
        System.out.println(helpers(g));
        System.out.println(Profile.summary(rows, 15));
      }
      case "forward" -> {
        ComputationGraph g = model(model, size);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
        for (int i = 0; i < 2; i++) {
          g.output(x);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < iters; i++) {
          g.output(x);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "forward %s batch=%d size=%d: %.2f images/s (%.0f ms/batch) peakRSS=%d MB%n", model,
            batch, size, iters * batch / s, 1000 * s / iters, peakRssKb() / 1024);
      }
      default -> throw new IllegalArgumentException(cmd);
    }
  }
}
