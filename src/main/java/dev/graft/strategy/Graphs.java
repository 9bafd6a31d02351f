package dev.graft.strategy;

import static dev.graft.nn.LayerConfigs.unwrap;

import dev.graft.error.GraftException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/** Graph surgery on DL4J configurations: sub-graphs, freezing, per-layer updaters, param copies. */
final class Graphs {
  private Graphs() {}


  static Layer layerOf(ComputationGraphConfiguration conf, String vertex) {
    GraphVertex gv = conf.getVertices().get(vertex);
    return gv instanceof LayerVertex lv ? unwrap(lv.getLayerConf().getLayer()) : null;
  }

  static boolean hasParams(ComputationGraphConfiguration conf, String vertex) {
    Layer l = layerOf(conf, vertex);
    return l != null && l.initializer().numParams(l) > 0;
  }

  static boolean isBatchNorm(ComputationGraphConfiguration conf, String vertex) {
    return layerOf(conf, vertex) instanceof BatchNormalization;
  }

  static List<String> inputsOf(ComputationGraphConfiguration conf, String vertex) {
    List<String> in = conf.getVertexInputs().get(vertex);
    return in == null ? List.of() : in;
  }

  /** All vertices of {@code conf} in a deterministic topological order (network inputs excluded). */
  static List<String> topologicalOrder(ComputationGraphConfiguration conf) {
    List<String> names = new ArrayList<>(conf.getVertices().keySet());
    java.util.Collections.sort(names);
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> consumers = new HashMap<>();
    Set<String> inputs = new LinkedHashSet<>(conf.getNetworkInputs());
    for (String v : names) {
      int n = 0;
      for (String in : inputsOf(conf, v)) {
        if (!inputs.contains(in)) {
          n++;
          consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(v);
        }
      }
      pending.put(v, n);
    }
    Deque<String> ready = new ArrayDeque<>();
    // Keep the configuration's own (insertion) order where possible: it is the builder's order.
    for (String v : conf.getVertices().keySet()) {
      if (pending.get(v) == 0) {
        ready.add(v);
      }
    }
    List<String> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String v = ready.poll();
      order.add(v);
      for (String c : consumers.getOrDefault(v, List.of())) {
        if (pending.merge(c, -1, Integer::sum) == 0) {
          ready.add(c);
        }
      }
    }
    if (order.size() != names.size()) {
      throw new GraftException("the graph has a cycle or dangling inputs: ordered " + order.size()
          + " of " + names.size() + " vertices");
    }
    return order;
  }

  /** {@code targets} and everything they depend on (network inputs excluded). */
  static Set<String> ancestors(ComputationGraphConfiguration conf, Collection<String> targets) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(targets);
    Set<String> inputs = Set.copyOf(conf.getNetworkInputs());
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (inputs.contains(v) || !seen.add(v)) {
        continue;
      }
      todo.addAll(inputsOf(conf, v));
    }
    return seen;
  }

  /** Vertices of {@code order} that are {@code trainable} or depend on one of them. */
  static Set<String> downstream(ComputationGraphConfiguration conf, List<String> order,
      Set<String> trainable) {
    Set<String> d = new LinkedHashSet<>();
    for (String v : order) {
      if (trainable.contains(v) || inputsOf(conf, v).stream().anyMatch(d::contains)) {
        d.add(v);
      }
    }
    return d;
  }

  /**
   * A configuration with the vertices {@code keep} of {@code src}, reading {@code inputs},
   * producing {@code outputs}. Layers in {@code updaters} train with their own clone of that
   * updater (and the weight decay); other layers are frozen: with DL4J's {@code FrozenLayer} when
   * nothing trainable feeds them, otherwise with backprop ({@link InferenceBatchNorm} for
   * BatchNorm, {@code FrozenLayerWithBackprop} for the rest). Parameter-free layers below the
   * trainable part are frozen too, so that dropout there is off.
   */
  static ComputationGraphConfiguration rebuild(ComputationGraphConfiguration src,
      Collection<String> keep, List<String> inputs, List<String> outputs,
      Map<String, IUpdater> updaters, double weightDecay, long seed) {
    List<String> order = new ArrayList<>(topologicalOrder(src));
    order.retainAll(new LinkedHashSet<>(keep));
    Set<String> below = new LinkedHashSet<>(order);
    below.removeAll(downstream(src, order, updaters.keySet()));

    NeuralNetConfiguration.Builder global = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(src.getDataType())
        .trainingWorkspaceMode(src.getTrainingWorkspaceMode())
        .inferenceWorkspaceMode(src.getInferenceWorkspaceMode())
        .cacheMode(src.getCacheMode());
    ComputationGraphConfiguration.GraphBuilder gb = global.graphBuilder();
    gb.addInputs(inputs.toArray(String[]::new));
    for (String v : order) {
      GraphVertex gv = src.getVertices().get(v).clone();
      if (gv instanceof LayerVertex lv) {
        NeuralNetConfiguration nnc = lv.getLayerConf();
        Layer l = unwrap(nnc.getLayer());
        Layer configured;
        IUpdater u = updaters.get(v);
        if (u != null) {
          configureTrainable(l, u, weightDecay);
          configured = l;
        } else if (below.contains(v)) {
          configured = new FrozenLayer(l);
        } else if (l.initializer().numParams(l) == 0) {
          configured = l;
        } else if (l instanceof BatchNormalization) {
          configured = new InferenceBatchNorm(l);
        } else {
          configured = new FrozenLayerWithBackprop(l);
        }
        configured.setLayerName(v);
        nnc.setLayer(configured);
      }
      gb.addVertex(v, gv, inputsOf(src, v).toArray(String[]::new));
    }
    gb.setOutputs(outputs.toArray(String[]::new));
    gb.validateOutputLayerConfig(false);
    return gb.build();
  }

  /** Gives {@code l} its own copy of {@code u} (never a shared instance) and the weight decay. */
  static void configureTrainable(Layer l, IUpdater u, double weightDecay) {
    if (l instanceof BaseLayer bl) {
      bl.setIUpdater(u.clone());
      bl.setBiasUpdater(null);
      List<Regularization> reg = new ArrayList<>();
      if (weightDecay > 0) {
        reg.add(new WeightDecay(weightDecay, true));
      }
      bl.setRegularization(reg);
      bl.setRegularizationBias(new ArrayList<>());
    }
  }

  /**
   * Instantiates {@code conf} and copies the parameters of every layer that {@code source} has
   * under the same name (BatchNorm moving statistics included).
   */
  static ComputationGraph instantiate(ComputationGraphConfiguration conf, ComputationGraph source,
      long seed) {
    ComputationGraph net = new ComputationGraph(conf);
    Nd4j.getRandom().setSeed(seed);
    net.init();
    copyParams(source, net, null);
    return net;
  }

  /** Copies the parameters of the layers named in {@code only} (all shared ones when null). */
  static void copyParams(ComputationGraph from, ComputationGraph to, Set<String> only) {
    for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : to.getVertices()) {
      if (!v.hasLayer() || v.getLayer().numParams() == 0) {
        continue;
      }
      String name = v.getVertexName();
      if (only != null && !only.contains(name)) {
        continue;
      }
      org.deeplearning4j.nn.graph.vertex.GraphVertex s = from.getVertex(name);
      if (s == null || !s.hasLayer()) {
        continue;
      }
      Map<String, INDArray> dst = v.getLayer().paramTable();
      Map<String, INDArray> srcParams = s.getLayer().paramTable();
      for (Map.Entry<String, INDArray> e : dst.entrySet()) {
        INDArray p = srcParams.get(e.getKey());
        if (p == null || p.length() != e.getValue().length()) {
          throw new GraftException("cannot copy parameter " + name + "/" + e.getKey()
              + ": shapes differ");
        }
        e.getValue().assign(p.reshape(e.getValue().shape()));
      }
    }
  }

  /** Snapshot of the parameters of the named layers that {@code net} has (copies). */
  static Map<String, Map<String, INDArray>> snapshot(ComputationGraph net, Collection<String> layers) {
    Map<String, Map<String, INDArray>> m = new HashMap<>();
    for (String name : layers) {
      org.deeplearning4j.nn.graph.vertex.GraphVertex v = net.getVertex(name);
      if (v != null && v.hasLayer()) {
        Map<String, INDArray> p = new HashMap<>();
        v.getLayer().paramTable().forEach((k, a) -> p.put(k, a.dup()));
        m.put(name, p);
      }
    }
    return m;
  }

  /** Writes a {@link #snapshot} back into {@code net}. */
  static void restore(ComputationGraph net, Map<String, Map<String, INDArray>> snapshot) {
    snapshot.forEach((name, params) -> {
      Map<String, INDArray> dst = net.getVertex(name).getLayer().paramTable();
      params.forEach((k, a) -> dst.get(k).assign(a));
    });
  }

  static <T> Function<String, T> constant(T t) {
    return k -> t;
  }
}
