package dev.graft.base.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.HubFile;
import dev.graft.base.Weights;
import dev.graft.error.GraftException;
import dev.graft.io.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code .imagenet()} for the bases of the PyTorch ecosystem: the publisher's {@code .safetensors}
 * file on the Hugging Face Hub, pinned to a commit and a SHA-256, fetched from a real HTTP server
 * on 127.0.0.1 (standing in for huggingface.co) through the verified downloader.
 */
class HubDownloadTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  private static Path stateDict;
  private static Base source;
  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();

  /** A full-size resnet50-torchvision state dict under torchvision's names (random weights). */
  @BeforeAll
  static void writeStateDict() throws Exception {
    source =
        Bases.of(Architecture.RESNET50_TORCHVISION)
            .weights(Weights.none())
            .inputSize(32)
            .seed(11)
            .load();
    stateDict =
        StateDictExport.of(
                source.graph(), Architecture.RESNET50_TORCHVISION.stateDictMapping().orElseThrow())
            .write(shared.resolve("model.safetensors"));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  /** Serves {@code file} at {@code /path}; counts requests; returns the base URL. */
  private String serve(String path, Path file) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/" + path,
        exchange -> {
          requests.incrementAndGet();
          exchange.sendResponseHeaders(200, Files.size(file));
          try (OutputStream out = exchange.getResponseBody()) {
            Files.copy(file, out);
          }
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  private static List<Path> files(Path d) throws IOException {
    if (!Files.isDirectory(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.toList();
    }
  }

  @Test
  void aPinnedHubFileIsDownloadedVerifiedCachedAndLoaded() throws Exception {
    String sha = Sha256.of(stateDict);
    HubFile file =
        new HubFile(
            "graft-test/resnet50.tv_in1k",
            "0123456789abcdef0123456789abcdef01234567",
            "model.safetensors",
            Files.size(stateDict),
            sha,
            "test");
    String base = serve(file.path(), stateDict);
    Path cache = dir.resolve("cache");
    INDArray x = Nd4j.rand(2, 3, 32, 32);
    try (Base loaded =
        Bases.of(Architecture.RESNET50_TORCHVISION)
            .weights(Weights.imagenet(file))
            .imagenetBaseUrl(base)
            .cacheDir(cache)
            .offline(false)
            .inputSize(32)
            .load()) {
      assertEquals("imagenet:sha256=" + sha, loaded.weightsKey());
      assertEquals(source.graph().outputSingle(x), loaded.graph().outputSingle(x));
    }
    assertEquals(1, requests.get());
    Path cached = cache.resolve("graft-test--resnet50.tv_in1k--0123456789ab--model.safetensors");
    assertEquals(List.of(cached), files(cache), "the verified file alone, no temporary file");
    // offline, from the cache, with the digest pinned by the user as well
    try (Base again =
        Bases.of(Architecture.RESNET50_TORCHVISION)
            .weights(Weights.imagenet(file))
            .weightsSha256(sha)
            .cacheDir(cache)
            .offline(true)
            .inputSize(32)
            .load()) {
      assertEquals(source.graph().outputSingle(x), again.graph().outputSingle(x));
    }
    assertEquals(1, requests.get(), "the cached copy served");
  }

  /**
   * The catalog's own file: the URL names the repository and the pinned commit, and bytes without
   * the published SHA-256 are refused, naming it, with nothing cached.
   */
  @Test
  void theCatalogFileIsFetchedAtItsCommitAndRefusedWithoutItsDigest() throws Exception {
    HubFile pinned = Architecture.RESNET50_TORCHVISION.imagenetHubFile().orElseThrow();
    assertEquals(
        "timm/resnet50.tv_in1k/resolve/78f3ecfdb38e06d9b8397f662e7ab8fee96026fa/model.safetensors",
        pinned.path());
    String base = serve(pinned.path(), stateDict);
    Path cache = dir.resolve("cache");
    GraftException e =
        assertThrows(
            GraftException.class,
            () ->
                Bases.of(Architecture.RESNET50_TORCHVISION)
                    .imagenet()
                    .imagenetBaseUrl(base)
                    .cacheDir(cache)
                    .offline(false)
                    .inputSize(32)
                    .load());
    assertEquals(1, requests.get());
    assertTrue(
        e.getMessage().contains("checksum mismatch for " + base + pinned.path()), e.getMessage());
    assertTrue(e.getMessage().contains("expected " + pinned.sha256()), e.getMessage());
    assertTrue(e.getMessage().contains("--weights FILE.safetensors"), e.getMessage());
    assertEquals(List.of(), files(cache));
  }

  @Test
  void offlineTheErrorNamesTheUrlTheCachePathAndTheFlag() {
    Path cache = dir.resolve("cache");
    HubFile pinned = Architecture.CONVNEXT_TINY.imagenetHubFile().orElseThrow();
    GraftException e =
        assertThrows(
            GraftException.class,
            () ->
                Bases.of(Architecture.CONVNEXT_TINY)
                    .imagenet()
                    .cacheDir(cache)
                    .offline(true)
                    .inputSize(32)
                    .load());
    String m = e.getMessage();
    assertTrue(
        m.contains(
            "https://huggingface.co/timm/convnext_tiny.fb_in1k/resolve/"
                + "b43a6303c9fcf176d2d707478a128c2c91e93528/model.safetensors"),
        m);
    assertTrue(m.contains(cache.resolve(pinned.fileName()).toAbsolutePath().toString()), m);
    assertTrue(m.contains("--weights FILE.safetensors"), m);
  }

  /** Where no verifiable digest was found, the error names the file to bring and the flag. */
  @Test
  void basesWithoutAPinnedFileNameTheFileAndTheFlag() {
    for (Architecture a : List.of(Architecture.VIT_B16, Architecture.DINOV2_VITS14_REG)) {
      assertTrue(a.imagenetHubFile().isEmpty(), a.id());
      GraftException e =
          assertThrows(
              GraftException.class,
              () -> Bases.of(a).imagenet().cacheDir(dir).offline(true).inputSize(28).load());
      assertTrue(e.getMessage().contains(a.stateDictFile().orElseThrow()), e.getMessage());
      assertTrue(e.getMessage().contains("--weights FILE.safetensors"), e.getMessage());
    }
  }

  @Test
  void hubFilesAreValidated() {
    String rev = "0123456789abcdef0123456789abcdef01234567";
    String sha = "0".repeat(64);
    for (Runnable bad :
        List.<Runnable>of(
            () -> new HubFile("no-slash", rev, "model.safetensors", 1, sha, ""),
            () -> new HubFile("a/../b", rev, "model.safetensors", 1, sha, ""),
            () -> new HubFile("a/b", "main", "model.safetensors", 1, sha, ""),
            () -> new HubFile("a/b", rev, "model.pth", 1, sha, ""),
            () -> new HubFile("a/b", rev, "../x.safetensors", 1, sha, ""),
            () -> new HubFile("a/b", rev, "model.safetensors", 0, sha, ""),
            () -> new HubFile("a/b", rev, "model.safetensors", 1, "abc", ""))) {
      assertThrows(GraftException.class, bad::run);
    }
  }
}
