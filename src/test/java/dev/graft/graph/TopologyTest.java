package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.error.GraftException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;

class TopologyTest {

  /**
   * Both orders list every vertex once, each after its inputs; on ResNet50's and InceptionV3's
   * branches they differ (why the catalog keeps DL4J's, see {@link Topology#runtimeOrder}).
   */
  @ParameterizedTest
  @EnumSource(Architecture.class)
  void bothOrdersAreTopologicalOnTheCatalog(Architecture a) {
    ComputationGraph g = a.build(a.minInputSize(), 1);
    ComputationGraphConfiguration conf = g.getConfiguration();
    for (List<String> order : List.of(Topology.order(conf), Topology.runtimeOrder(g))) {
      assertEquals(conf.getVertices().keySet(), new HashSet<>(order));
      assertEquals(order.size(), new HashSet<>(order).size());
      for (int i = 0; i < order.size(); i++) {
        for (String in : Topology.inputsOf(conf, order.get(i))) {
          assertTrue(
              conf.getNetworkInputs().contains(in) || order.indexOf(in) < i,
              in + " after " + order.get(i));
        }
      }
    }
    if (a == Architecture.RESNET50 || a == Architecture.INCEPTION_V3) {
      assertNotEquals(Topology.order(conf), Topology.runtimeOrder(g));
    }
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
