package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.graft.base.Architecture;
import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;

class TopologyTest {

  /** Graft's one order agrees with DL4J's own on every catalog graph (branches included). */
  @ParameterizedTest
  @EnumSource(Architecture.class)
  void orderMatchesDl4jsOnTheCatalog(Architecture a) {
    ComputationGraph g = new ComputationGraph(a.build(a.minInputSize(), 1).getConfiguration());
    g.init();
    List<String> dl4j = new ArrayList<>();
    Set<String> inputs = Set.copyOf(g.getConfiguration().getNetworkInputs());
    for (int i : g.topologicalSortOrder()) {
      String name = g.getVertices()[i].getVertexName();
      if (!inputs.contains(name)) {
        dl4j.add(name);
      }
    }
    assertEquals(dl4j, Topology.order(g));
  }

  @Test
  void ancestorsAndDownstreamFollowTheEdges() {
    ComputationGraphConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .graphBuilder()
            .addInputs("in")
            .addLayer("a", new ActivationLayer(Activation.RELU), "in")
            .addLayer("b", new ActivationLayer(Activation.TANH), "in")
            .addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a", "b")
            .addLayer("c", new ActivationLayer(Activation.RELU), "sum")
            .setOutputs("c")
            .build();
    assertEquals(List.of("a", "b", "sum", "c"), Topology.order(conf));
    assertEquals(Set.of("a", "b", "sum"), Topology.ancestors(conf, List.of("sum")));
    assertEquals(
        Set.of("b", "sum", "c"), Topology.downstream(conf, Topology.order(conf), Set.of("b")));
    assertEquals(List.of("a", "b"), Topology.inputsOf(conf, "sum"));
    conf.getVertexInputs().put("a", List.of("c"));
    assertThrows(GraftException.class, () -> Topology.order(conf));
  }
}
