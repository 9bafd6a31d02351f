package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.graft.error.GraftException;
import dev.graft.io.Downloader;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.Adler32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ImageNet download path against a real HTTP server on 127.0.0.1: verified, cached once, never
 * half-written, and silent offline.
 */
class ImagenetDownloadTest {
  @TempDir Path dir;
  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  /** Serves {@code body} at /models/{name}; counts requests. Returns the base URL. */
  private String serve(String name, byte[] body) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/models/" + name,
        exchange -> {
          requests.incrementAndGet();
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  private static long adler32(byte[] bytes) {
    Adler32 a = new Adler32();
    a.update(bytes);
    return a.getValue();
  }

  private List<Path> cacheFiles(Path cache) throws IOException {
    if (!Files.isDirectory(cache)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(cache)) {
      return s.toList();
    }
  }

  @Test
  void aGoodFileIsDownloadedOnceVerifiedAndCached() throws IOException {
    byte[] body = "pretend weights".repeat(20_000).getBytes();
    PretrainedFile file = new PretrainedFile("models/good.zip", adler32(body));
    String base = serve("good.zip", body);
    Path cache = dir.resolve("cache");

    Path first = file.fetch(base, cache, false);
    assertEquals(cache.resolve("good.zip").toAbsolutePath(), first);
    assertEquals(1, requests.get());
    assertTrue(java.util.Arrays.equals(body, Files.readAllBytes(first)));
    assertEquals(List.of(first), cacheFiles(cache), "no temporary file left behind");

    Path second = file.fetch(base, cache, false);
    assertEquals(first, second);
    assertEquals(1, requests.get(), "the second fetch must not touch the server");
    // Offline, the cached copy serves too.
    assertEquals(first, file.fetch(base, cache, true));
    assertEquals(1, requests.get());
  }

  @Test
  void corruptedBytesGiveAChecksumErrorAndLeaveNothingInTheCache() throws IOException {
    byte[] good = "the real weights".repeat(1000).getBytes();
    byte[] bad = good.clone();
    bad[bad.length / 2] ^= 0x20;
    PretrainedFile file = new PretrainedFile("models/corrupt.zip", adler32(good));
    String base = serve("corrupt.zip", bad);
    Path cache = dir.resolve("cache");

    GraftException e = assertThrows(GraftException.class, () -> file.fetch(base, cache, false));
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    assertTrue(e.getMessage().contains(String.valueOf(adler32(good))), e.getMessage());
    assertEquals(List.of(), cacheFiles(cache));
  }

  @Test
  void aCorruptCachedFileIsReplaced() throws IOException {
    byte[] body = "weights".repeat(5000).getBytes();
    PretrainedFile file = new PretrainedFile("models/w.zip", adler32(body));
    String base = serve("w.zip", body);
    Path cache = Files.createDirectories(dir.resolve("cache"));
    Files.write(cache.resolve("w.zip"), new byte[] {1, 2, 3});

    GraftException offline =
        assertThrows(GraftException.class, () -> file.fetch(base, cache, true));
    assertTrue(offline.getMessage().contains("corrupt"), offline.getMessage());
    assertEquals(0, requests.get());

    Path p = file.fetch(base, cache, false);
    assertEquals(1, requests.get());
    assertEquals(adler32(body), Downloader.adler32(p));
  }

  @Test
  void aDeadServerIsAClearError() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      port = s.getLocalPort();
    }
    PretrainedFile file = new PretrainedFile("models/vgg16_dl4j_inference.zip", 3501732770L);
    Path cache = dir.resolve("cache");
    GraftException e =
        assertThrows(
            GraftException.class,
            () ->
                Bases.vgg16()
                    .imagenet()
                    .imagenetBaseUrl("http://127.0.0.1:" + port + "/")
                    .cacheDir(cache)
                    .offline(false)
                    .load());
    assertTrue(
        e.getMessage().contains("http://127.0.0.1:" + port + "/models/vgg16_dl4j_inference.zip"),
        e.getMessage());
    assertTrue(e.getMessage().toLowerCase().contains("refused"), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains("put it at " + cache.resolve("vgg16_dl4j_inference.zip").toAbsolutePath()),
        e.getMessage());
    assertTrue(e.getMessage().contains("GRAFT_OFFLINE"), e.getMessage());
    assertEquals(List.of(), cacheFiles(cache));
    assertEquals(file, Architecture.VGG16.imagenetFile());
  }

  @Test
  void aMissingFileOnTheServerIsAClearError() throws IOException {
    String base = serve("other.zip", new byte[] {1});
    PretrainedFile file = new PretrainedFile("models/missing.zip", 1L);
    GraftException e =
        assertThrows(GraftException.class, () -> file.fetch(base, dir.resolve("cache"), false));
    assertTrue(
        e.getMessage().contains("404") && e.getMessage().contains("missing.zip"), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains(
                dir.resolve("cache").resolve("missing.zip").toAbsolutePath() + " (the cache)"),
        e.getMessage());
  }

  @Test
  void offlineModeNamesTheMissingFileAndOpensNoSocket() throws IOException {
    String base = serve("resnet50_dl4j_inference.v3.zip", new byte[] {1, 2, 3});
    Path cache = dir.resolve("offline-cache");
    GraftException e =
        assertThrows(
            GraftException.class,
            () ->
                Bases.resnet50()
                    .imagenet()
                    .imagenetBaseUrl(base)
                    .cacheDir(cache)
                    .offline(true)
                    .inputSize(32)
                    .load());
    String expected = cache.resolve("resnet50_dl4j_inference.v3.zip").toAbsolutePath().toString();
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(
        e.getMessage().contains(base + "models/resnet50_dl4j_inference.v3.zip"), e.getMessage());
    assertEquals(0, requests.get());
    assertFalse(Files.exists(cache.resolve("resnet50_dl4j_inference.v3.zip")));
  }

  @Test
  void offlineAndCacheDirComeFromSystemProperties() throws IOException {
    String base = serve("vgg16_dl4j_inference.zip", new byte[] {1, 2, 3});
    Path cache = dir.resolve("from-property");
    System.setProperty(BaseBuilder.OFFLINE_PROPERTY, "true");
    System.setProperty(BaseBuilder.CACHE_DIR_PROPERTY, cache.toString());
    try {
      GraftException e =
          assertThrows(
              GraftException.class,
              () -> Bases.vgg16().imagenet().imagenetBaseUrl(base).inputSize(32).load());
      assertTrue(
          e.getMessage()
              .contains(cache.resolve("vgg16_dl4j_inference.zip").toAbsolutePath().toString()),
          e.getMessage());
      assertEquals(0, requests.get());
      assertEquals(cache, BaseBuilder.defaultCacheDir());
      assertTrue(BaseBuilder.defaultOffline());
    } finally {
      System.clearProperty(BaseBuilder.OFFLINE_PROPERTY);
      System.clearProperty(BaseBuilder.CACHE_DIR_PROPERTY);
    }
  }
}
