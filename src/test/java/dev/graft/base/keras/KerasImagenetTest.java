package dev.graft.base.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.graft.base.Architecture;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.base.keras.KerasImagenet.KerasWeightFile;
import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keras ImageNet files fetched from a local HTTP server on 127.0.0.1 that the test starts. */
class KerasImagenetTest {

  @TempDir Path dir;

  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private volatile byte[] served;
  private String baseUrl;
  private Path cache;
  private byte[] good;
  private KerasWeightFile file;

  @BeforeEach
  void startServer() throws IOException {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(1)
                .graphBuilder()
                .addInputs("input_1")
                .setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer("conv2d_1", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "input_1")
                .setOutputs("conv2d_1")
                .build());
    g.init();
    Path h5 = dir.resolve("small.h5");
    KerasWeightsWriter.save(g, h5);
    good = Files.readAllBytes(h5);
    file = new KerasWeightFile("inception_v3/small_notop.h5", KerasImagenet.md5(h5));
    served = good;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.incrementAndGet();
          byte[] body = served;
          String path = exchange.getRequestURI().getPath();
          if (!path.endsWith(".h5") || body == null) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
          }
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    baseUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/keras";
    cache = dir.resolve("cache");
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  private List<Path> cacheFiles() throws IOException {
    if (!Files.isDirectory(cache)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(cache)) {
      return s.toList();
    }
  }

  @Test
  void goodFileIsCachedVerifiedAndReusedOffline() throws IOException {
    Path got = KerasImagenet.fetch(file, baseUrl, cache, false);
    assertEquals(cache.resolve("small_notop.h5").toAbsolutePath(), got);
    assertArrayEquals(good, Files.readAllBytes(got));
    assertEquals(1, requests.get());
    assertEquals(List.of(got), cacheFiles());
    assertEquals(List.of("conv2d_1"), KerasWeights.layersWithWeights(got));

    server.stop(0);
    assertEquals(got, KerasImagenet.fetch(file, baseUrl, cache, true)); // offline: from the cache
    assertEquals(got, KerasImagenet.fetch(file, baseUrl, cache, false)); // cached: no request
    assertEquals(1, requests.get());
  }

  @Test
  void corruptBytesAreRejectedAndNothingIsCached() {
    byte[] bad = good.clone();
    bad[bad.length / 2] ^= 0x5a;
    served = bad;
    GraftException e =
        assertThrows(GraftException.class, () -> KerasImagenet.fetch(file, baseUrl, cache, false));
    assertTrue(
        e.getMessage().contains("checksum mismatch") && e.getMessage().contains(file.md5()),
        e.getMessage());
    assertEquals(List.of(), cacheFilesUnchecked());
  }

  private List<Path> cacheFilesUnchecked() {
    try {
      return cacheFiles();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void corruptCachedFileIsDownloadedAgainOrRefusedOffline() throws IOException {
    Files.createDirectories(cache);
    Files.write(cache.resolve("small_notop.h5"), new byte[] {1, 2, 3});
    GraftException off =
        assertThrows(GraftException.class, () -> KerasImagenet.fetch(file, baseUrl, cache, true));
    assertTrue(off.getMessage().contains("corrupt"), off.getMessage());
    assertEquals(0, requests.get());
    Path got = KerasImagenet.fetch(file, baseUrl, cache, false);
    assertArrayEquals(good, Files.readAllBytes(got));
  }

  @Test
  void offlineWithoutCacheNamesTheFileAndOpensNoConnection() {
    GraftException e =
        assertThrows(GraftException.class, () -> KerasImagenet.fetch(file, baseUrl, cache, true));
    assertTrue(
        e.getMessage().contains(cache.resolve("small_notop.h5").toAbsolutePath().toString()),
        e.getMessage());
    assertTrue(e.getMessage().contains(baseUrl + "/inception_v3/small_notop.h5"), e.getMessage());
    assertEquals(0, requests.get());
  }

  @Test
  void deadServerAndMissingFileAreClearErrors() throws IOException {
    served = null;
    GraftException notFound =
        assertThrows(GraftException.class, () -> KerasImagenet.fetch(file, baseUrl, cache, false));
    assertTrue(notFound.getMessage().contains("HTTP 404"), notFound.getMessage());
    server.stop(0);
    GraftException dead =
        assertThrows(GraftException.class, () -> KerasImagenet.fetch(file, baseUrl, cache, false));
    assertTrue(dead.getMessage().contains("could not download " + baseUrl), dead.getMessage());
    assertEquals(List.of(), cacheFiles());
  }

  @Test
  void publishedFilesAsKerasNamesThem() {
    assertEquals(
        "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        Architecture.INCEPTION_V3
            .kerasImagenetFile(false)
            .orElseThrow()
            .url(KerasImagenet.BASE_URL)
            .toString());
    assertEquals(
        "bcbd6486424b2319ff4ef7d526e38f63",
        Architecture.INCEPTION_V3.kerasImagenetFile(false).orElseThrow().md5());
    assertEquals(
        "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        Architecture.VGG16.kerasImagenetFile(true).orElseThrow().fileName());
    assertEquals(
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        Architecture.RESNET50.kerasImagenetFile(false).orElseThrow().fileName());
    assertEquals(KerasImagenet.BASE_URL, KerasImagenet.baseUrl(null));
    assertThrows(GraftException.class, () -> new KerasWeightFile("x.h5", "not-a-hash"));
  }

  /** InceptionV3's {@code imagenet} goes through Keras's file and its published MD5. */
  @Test
  void inceptionImagenetDownloadsKerasFileAndChecksItsPublishedHash() throws IOException {
    served = good; // not Keras's file: its MD5 cannot be bcbd6486…
    GraftException e = // a checksum mismatch or a failed download is bad input (exit 2)
        assertThrows(
            GraftException.class,
            () ->
                Bases.inceptionV3()
                    .imagenet()
                    .inputSize(75)
                    .cacheDir(cache)
                    .offline(false)
                    .imagenetBaseUrl(baseUrl)
                    .load());
    assertTrue(e.getMessage().contains("bcbd6486424b2319ff4ef7d526e38f63"), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains(
                baseUrl + "/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        e.getMessage());
    assertEquals(1, requests.get());
    assertEquals(List.of(), cacheFiles());

    GraftException off =
        assertThrows(
            GraftException.class,
            () ->
                Bases.inceptionV3().imagenet().inputSize(75).cacheDir(cache).offline(true).load());
    assertTrue(
        off.getMessage().contains("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        off.getMessage());
    assertEquals(1, requests.get());
  }

  /** VGG16 and ResNet50 take Keras's files as an alternative: {@code Weights.imagenetKeras()}. */
  @Test
  void resnetKerasImagenetAlternativeUsesKerasFileAndHash() {
    assertEquals(Weights.imagenetKeras(), Weights.named("imagenet-keras"));
    GraftException e = // a checksum mismatch or a failed download is bad input (exit 2)
        assertThrows(
            GraftException.class,
            () ->
                Bases.resnet50()
                    .weights(Weights.imagenetKeras())
                    .inputSize(32)
                    .cacheDir(cache)
                    .offline(false)
                    .imagenetBaseUrl(baseUrl)
                    .load());
    assertTrue(e.getMessage().contains("4d473c1dd8becc155b73f8504c6f6626"), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains(baseUrl + "/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        e.getMessage());
  }
}
