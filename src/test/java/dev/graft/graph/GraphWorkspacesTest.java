package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.features.InferenceNetwork;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class GraphWorkspacesTest {

  /** The sizes of the forward pass's workspaces on this thread, after each of three passes. */
  private static List<Map<String, Long>> sizesOverThreePasses(ComputationGraph g, INDArray x) {
    return sizesOverThreePasses(() -> g.outputSingle(false, x).close());
  }

  /**
   * The sizes of the per-layer workspaces on this thread, after each of three runs of {@code pass}.
   */
  private static List<Map<String, Long>> sizesOverThreePasses(Runnable pass) {
    List<Map<String, Long>> sizes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      pass.run();
      Map<String, Long> now = new TreeMap<>();
      for (MemoryWorkspace ws : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
        if (ws.getId().startsWith("WS_LAYER_ACT_") || ws.getId().equals("WS_LAYER_WORKING_MEM")) {
          now.put(ws.getId(), ws.getCurrentSize());
        }
      }
      sizes.add(now);
    }
    return sizes;
  }

  /** conv, conv, a residual add of the two, conv, global pooling, softmax over 3 classes. */
  private static ComputationGraphConfiguration residualNet() {
    return new NeuralNetConfiguration.Builder()
        .seed(7)
        .updater(new Adam(1e-3))
        .graphBuilder()
        .addInputs("in")
        .setInputTypes(InputType.convolutional(12, 12, 3))
        .addLayer(
            "c1",
            new ConvolutionLayer.Builder(3, 3)
                .nOut(8)
                .padding(1, 1)
                .activation(Activation.RELU)
                .build(),
            "in")
        .addLayer(
            "c2",
            new ConvolutionLayer.Builder(3, 3)
                .nOut(8)
                .padding(1, 1)
                .activation(Activation.RELU)
                .build(),
            "c1")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "c1", "c2")
        .addLayer(
            "c3",
            new ConvolutionLayer.Builder(3, 3)
                .nOut(8)
                .padding(1, 1)
                .activation(Activation.RELU)
                .build(),
            "add")
        .addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "c3")
        .addLayer(
            "out",
            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(3)
                .activation(Activation.SOFTMAX)
                .build(),
            "pool")
        .setOutputs("out")
        .build();
  }

  /** Every activation workspace holds memory (working memory does only where a layer uses it). */
  private static void assertSized(Map<String, Long> sizes) {
    sizes.forEach(
        (id, size) ->
            assertTrue(
                size > 0 || id.equals("WS_LAYER_WORKING_MEM"), id + " sized in the first pass"));
    assertTrue(sizes.keySet().stream().anyMatch(id -> id.startsWith("WS_LAYER_ACT_")), "" + sizes);
  }

  /** Runs {@code work} on a new thread: workspaces are per thread, and this one has none yet. */
  private static <T> T onFreshThread(Callable<T> work) throws Exception {
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      return thread
          .submit(
              () -> {
                try {
                  return work.call();
                } finally {
                  Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
                }
              })
          .get();
    } finally {
      thread.shutdown();
    }
  }

  @Test
  void optimizedGraphsSizeTheirWorkspacesInTheFirstPassWithTheSameOutputs() throws Exception {
    ComputationGraph source = Architecture.EFFICIENTNET_B0.build(32, 5);
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32).subi(0.5);
    ComputationGraph fast = InferenceGraphs.optimize(source);
    // the same optimized graph under DL4J's own policy: learning over one opening per vertex
    ComputationGraph dl4jPolicy = new ComputationGraph(fast.getConfiguration().clone());
    dl4jPolicy.init(fast.params(), false);

    List<Map<String, Long>> settled = onFreshThread(() -> sizesOverThreePasses(fast, x));
    List<Map<String, Long>> learning = onFreshThread(() -> sizesOverThreePasses(dl4jPolicy, x));

    // several activation workspaces (the residual adds keep activations alive), all sized after
    // the first pass and never resized after it
    assertTrue(settled.get(0).size() >= 3, settled.get(0).toString());
    assertSized(settled.get(0));
    assertEquals(settled.get(0), settled.get(1));
    assertEquals(settled.get(0), settled.get(2));
    // DL4J's policy still spills its activations outside the workspaces after the first pass
    assertTrue(
        learning.get(0).values().stream().anyMatch(size -> size == 0), learning.get(0).toString());

    INDArray expected = onFreshThread(() -> dl4jPolicy.outputSingle(false, x).detach());
    for (int pass = 0; pass < 2; pass++) {
      INDArray out = onFreshThread(() -> fast.outputSingle(false, x).detach());
      assertArrayEquals(
          expected.ravel().toFloatVector(),
          out.ravel().toFloatVector(),
          "pass " + pass + ": the same bits");
    }
  }

  @Test
  void trainingGraphsSizeTheirGradientWorkspacesInTheFirstStepWithTheSameParameters()
      throws Exception {
    ComputationGraph source = new ComputationGraph(residualNet());
    source.init();
    ComputationGraph settledNet = Rebuild.instantiate(residualNet(), source, 7);
    ComputationGraph dl4jPolicy = new ComputationGraph(residualNet());
    dl4jPolicy.init(source.params().dup(), true);
    Nd4j.getRandom().setSeed(7);
    INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 12, 12);
    INDArray y = Nd4j.eye(3).getRows(0, 1, 2, 0);
    DataSet batch = new DataSet(x, y);

    List<Map<String, Long>> settled =
        onFreshThread(() -> sizesOverThreePasses(() -> settledNet.fit(batch)));
    List<Map<String, Long>> learning =
        onFreshThread(() -> sizesOverThreePasses(() -> dl4jPolicy.fit(batch)));

    assertSized(settled.get(0));
    assertEquals(settled.get(0), settled.get(1));
    assertEquals(settled.get(0), settled.get(2));
    assertTrue(
        learning.get(0).values().stream().anyMatch(size -> size == 0), learning.get(0).toString());
    // three Adam steps each: the same parameters, bit for bit
    assertArrayEquals(
        dl4jPolicy.params().ravel().toFloatVector(), settledNet.params().ravel().toFloatVector());
  }

  @Test
  void aCopyOfAnInferenceNetworkSettlesInItsFirstPassToo() throws Exception {
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32).subi(0.5);
    try (InferenceNetwork network =
            InferenceNetwork.of(Architecture.MOBILENET_V2.build(32, 5), List.of(), List.of());
        InferenceNetwork copy = network.copy()) {
      List<Map<String, Long>> sizes = onFreshThread(() -> sizesOverThreePasses(copy.graph(), x));
      assertSized(sizes.get(0));
      assertEquals(sizes.get(0), sizes.get(2));
    }
  }
}
