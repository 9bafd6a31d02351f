package dev.graft.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Per-vertex forward timing of a ComputationGraph: runs each vertex in topological order. */
final class Profile {
  private Profile() {}

  record Row(String name, String kind, double millis, double gflop) {}

  /**
   * Nanoseconds: wall time, or the process's CPU time with {@code -Dprofile.cpu=true} (steadier on
   * a loaded machine, where wall time mostly measures the other processes).
   */
  private static long now() {
    return CPU
        ? ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime()
        : System.nanoTime();
  }

  private static final boolean CPU = Boolean.getBoolean("profile.cpu");

  static List<Row> run(ComputationGraph g, INDArray input, int repeats) {
    GraphVertex[] vertices = g.getVertices();
    int[] order = g.topologicalSortOrder();
    Map<String, double[]> time = new LinkedHashMap<>();
    Map<String, Double> flops = new HashMap<>();
    Map<String, String> kinds = new HashMap<>();
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    for (int r = 0; r < repeats + 1; r++) {
      Map<String, INDArray> acts = new HashMap<>();
      for (int idx : order) {
        GraphVertex v = vertices[idx];
        String name = v.getVertexName();
        if (v.isInputVertex()) {
          acts.put(name, input);
          continue;
        }
        VertexIndices[] in = v.getInputVertices();
        for (int i = 0; i < in.length; i++) {
          v.setInput(i, acts.get(vertices[in[i].getVertexIndex()].getVertexName()), mgr);
        }
        long t0 = now();
        INDArray out = v.doForward(false, mgr);
        long t1 = now();
        acts.put(name, out);
        if (r > 0) {
          time.computeIfAbsent(name, k -> new double[1])[0] += (t1 - t0) / 1e6 / repeats;
        }
        if (r == 0) {
          String kind =
              v.hasLayer()
                  ? v.getLayer().conf().getLayer().getClass().getSimpleName()
                  : v.getClass().getSimpleName();
          if (v.hasLayer() && v.getLayer().conf().getLayer() instanceof ConvolutionLayer c) {
            kind = "Conv" + c.getKernelSize()[0] + "x" + c.getKernelSize()[1];
            INDArray x = v.getInputs()[0];
            double f =
                2.0
                    * out.size(0)
                    * out.size(2)
                    * out.size(3)
                    * c.getNOut()
                    * c.getNIn()
                    * c.getKernelSize()[0]
                    * c.getKernelSize()[1];
            flops.put(name, f / 1e9);
          }
          kinds.put(name, kind);
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    time.forEach((k, v) -> rows.add(new Row(k, kinds.get(k), v[0], flops.getOrDefault(k, 0.0))));
    return rows;
  }

  static String summary(List<Row> rows, int top) {
    StringBuilder sb = new StringBuilder();
    double total = rows.stream().mapToDouble(Row::millis).sum();
    Map<String, double[]> byKind = new LinkedHashMap<>();
    for (Row r : rows) {
      double[] a = byKind.computeIfAbsent(r.kind(), k -> new double[3]);
      a[0] += r.millis();
      a[1] += r.gflop();
      a[2]++;
    }
    sb.append(
        String.format(
            Locale.ROOT, "total %.1f ms %s per batch%n", total, CPU ? "of CPU time" : "wall"));
    sb.append(
        String.format(Locale.ROOT, "%-28s %5s %10s %6s %9s%n", "kind", "n", "ms", "%", "GFLOP/s"));
    byKind.entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]))
        .forEach(
            e -> {
              double[] a = e.getValue();
              sb.append(
                  String.format(
                      Locale.ROOT,
                      "%-28s %5d %10.1f %5.1f%% %9s%n",
                      e.getKey(),
                      (int) a[2],
                      a[0],
                      100 * a[0] / total,
                      a[1] > 0 ? String.format(Locale.ROOT, "%.1f", a[1] / (a[0] / 1000)) : ""));
            });
    sb.append("slowest vertices:\n");
    rows.stream()
        .sorted((a, b) -> Double.compare(b.millis(), a.millis()))
        .limit(top)
        .forEach(
            r ->
                sb.append(
                    String.format(
                        Locale.ROOT,
                        "  %-24s %-20s %8.1f ms %8s%n",
                        r.name(),
                        r.kind(),
                        r.millis(),
                        r.gflop() > 0
                            ? String.format(
                                Locale.ROOT, "%.1f GF/s", r.gflop() / (r.millis() / 1000))
                            : "")));
    return sb.toString();
  }
}
