package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.graft.graph.ParameterTransfer;
import dev.graft.graph.Truncation;
import dev.graft.io.Downloader;
import dev.graft.testing.StdErr;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.zoo.model.ResNet50;
import org.deeplearning4j.zoo.model.VGG16;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's pretrained zoo graphs, as shaped in their published files, adapted to Graft's
 * architectures: classifier dropped, ResNet50 given its global average pooling, every weight
 * carried over exactly. The graphs are the zoo's own builders with random weights.
 */
class ZooAdaptationTest {
  @TempDir Path dir;

  /**
   * The zoo's ResNet50 with the top of its published file: avg_pool → flatten_1 → fc1000 (a softmax
   * DenseLayer, not an OutputLayer), at 64 px and 10 classes to stay small.
   */
  static ComputationGraph zooShapedResNet50() {
    ComputationGraphConfiguration.GraphBuilder g =
        ResNet50.builder()
            .inputShape(new int[] {3, 64, 64})
            .numClasses(10)
            .seed(7)
            .build()
            .graphBuilder();
    g.removeVertex("avgpool").removeVertex("output");
    g.addLayer(
            "avg_pool",
            new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.AVG).kernelSize(1, 1).build(),
            "res5c_branch")
        .addVertex(
            "flatten_1",
            new PreprocessorVertex(new CnnToFeedForwardPreProcessor(1, 1, 2048)),
            "avg_pool")
        .addLayer(
            "fc1000",
            new DenseLayer.Builder().nIn(2048).nOut(10).activation(Activation.SOFTMAX).build(),
            "flatten_1")
        .setOutputs("fc1000");
    ComputationGraph zoo = new ComputationGraph(g.build());
    zoo.init();
    return zoo;
  }

  @Test
  void pretrainedResNet50FileIsDownloadedOnceAndAdapted() throws IOException {
    ComputationGraph zoo = zooShapedResNet50();
    Path zip = dir.resolve("resnet50_dl4j_inference.v3.zip");
    ModelSerializer.writeModel(zoo, zip.toFile(), false);
    byte[] bytes = Files.readAllBytes(zip);
    PretrainedFile file =
        new PretrainedFile("models/resnet50_dl4j_inference.v3.zip", Downloader.adler32(zip));

    AtomicInteger requests = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/models/",
        exchange -> {
          requests.incrementAndGet();
          exchange.sendResponseHeaders(200, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
      Path cache = dir.resolve("cache");
      Base base =
          Bases.resnet50()
              .weights(Weights.imagenet(file))
              .imagenetBaseUrl(url)
              .cacheDir(cache)
              .inputSize(32)
              .load();
      assertEquals(1, requests.get());
      assertEquals("imagenet:adler32=" + file.adler32(), base.weightsKey());
      assertEquals("res5c_branch", base.featureLayer());
      for (String layer :
          List.of(
              "stem-cnn1",
              "stem-batch1",
              "res2a_branch1",
              "bn2a_branch1",
              "res3d_branch2b",
              "bn4f_branch2c",
              "res5c_branch2c",
              "bn5c_branch2c")) {
        assertEquals(zoo.getLayer(layer).params(), base.graph().getLayer(layer).params(), layer);
      }
      assertEquals(base.graph().numParams(), zoo.numParams() - 2048 * 10 - 10, "all but fc1000");
      INDArray features = base.graph().outputSingle(Nd4j.rand(2, 3, 32, 32));
      assertArrayEquals(new long[] {2, 2048, 1, 1}, features.shape());

      // Cached: a second base, cut after its global pooling, comes without a request.
      Base pooled =
          Bases.resnet50()
              .weights(Weights.imagenet(file))
              .imagenetBaseUrl(url)
              .cacheDir(cache)
              .offline(true)
              .inputSize(64)
              .cut("avg_pool")
              .load();
      assertEquals(1, requests.get());
      assertArrayEquals(
          new long[] {1, 2048}, pooled.graph().outputSingle(Nd4j.rand(1, 3, 64, 64)).shape());
      assertEquals(
          zoo.getLayer("res4a_branch2a").params(),
          pooled.graph().getLayer("res4a_branch2a").params());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void zooVgg16WithNumberedLayersMapsInOrderAndLosesItsTop() throws Exception {
    ComputationGraph zoo =
        VGG16.builder().inputShape(new int[] {3, 32, 32}).numClasses(10).seed(3).build().init();
    ComputationGraph target =
        Truncation.newGraph(
            Truncation.truncate(Architecture.VGG16.configuration(32, 1, false), "block5_pool"),
            false);
    // the zoo writes Same padding out (Truncate, 1): the same convolution, so no warning
    StdErr.Captured<ComputationGraph> fitted =
        StdErr.capture(() -> ParameterTransfer.fit(zoo, target, "zoo VGG16"));
    assertFalse(fitted.text().contains("differs from"), fitted.text());
    ComputationGraph adapted = fitted.value();
    // The zoo names its layers "0".."20"; Graft's are Keras's, paired by order and shape.
    assertEquals(zoo.getLayer("0").params(), adapted.getLayer("block1_conv1").params());
    assertEquals(zoo.getLayer("16").params(), adapted.getLayer("block5_conv3").params());
    assertEquals(14_714_688L, adapted.numParams());
    INDArray x = Nd4j.rand(1, 3, 32, 32);
    assertEquals(zoo.feedForward(x, false).get("17"), adapted.outputSingle(x));
    assertTrue(
        adapted.getConfiguration().getVertices().keySet().stream()
            .noneMatch(v -> v.startsWith("fc")));
  }
}
