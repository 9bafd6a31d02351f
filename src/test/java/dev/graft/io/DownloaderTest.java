package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.Adler32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads against a real HTTP server on 127.0.0.1 that this test starts: a verified file is
 * cached and reused, a wrong checksum or a broken-off transfer caches nothing (and leaves no
 * partial file), a corrupt cached copy is fetched again, offline mode never connects, and the
 * progress line.
 */
class DownloaderTest {
  @TempDir Path cache;
  private final byte[] body = new byte[200_000];
  private final AtomicInteger requests = new AtomicInteger();

  /** How the server answers {@code /w.zip}: whole, cut short after half, or 404. */
  private volatile String mode = "whole";

  private ServerSocket server;
  private Thread serving;
  private URI url;

  /**
   * A minimal HTTP/1.0 server on a plain socket (so that "short" can really hang up mid-body): one
   * request per connection, the response closed after the body.
   */
  @BeforeEach
  void start() throws IOException {
    new Random(7).nextBytes(body);
    server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    serving =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                  answer(s);
                } catch (IOException closedOrGaveUp) {
                  // the test stopped the server, or the client hung up first
                }
              }
            },
            "test-http");
    serving.setDaemon(true);
    serving.start();
    url = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/w.zip");
  }

  private void answer(Socket s) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      // request line and headers: every request gets /w.zip
    }
    requests.incrementAndGet();
    OutputStream out = s.getOutputStream();
    if (mode.equals("missing")) {
      out.write(ascii("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    } else {
      // announces the whole length; "short" sends half of it and hangs up
      out.write(ascii("HTTP/1.0 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n"));
      out.write(body, 0, mode.equals("short") ? body.length / 2 : body.length);
    }
    out.flush();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    serving.join(5_000);
  }

  private Downloader.Checksum good() {
    Adler32 a = new Adler32();
    a.update(body);
    return Downloader.Checksum.adler32(a.getValue());
  }

  private Path fetch(Downloader.Checksum checksum, boolean offline) throws IOException {
    return Downloader.fetch("test weights", "w.zip", url, checksum, cache, offline);
  }

  /** Every file in the cache directory: no {@code .part} may be left behind. */
  private List<String> cached() throws IOException {
    try (Stream<Path> s = Files.list(cache)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aVerifiedDownloadIsCachedAndThenReusedWithoutTheNetwork() throws IOException {
    Path got = fetch(good(), false);
    assertEquals(cache.resolve("w.zip").toAbsolutePath(), got);
    assertArrayEquals(body, Files.readAllBytes(got));
    assertEquals(1, requests.get());
    assertEquals(got, fetch(good(), false));
    assertEquals(got, fetch(good(), true));
    assertEquals(1, requests.get(), "the cached copy was verified, not downloaded again");
    assertEquals(List.of("w.zip"), cached());
  }

  @Test
  void aChecksumMismatchCachesNothing() throws IOException {
    GraftException e =
        assertThrows(GraftException.class, () -> fetch(Downloader.Checksum.adler32(12345), false));
    assertTrue(e.getMessage().contains("checksum mismatch for " + url), e.getMessage());
    assertTrue(e.getMessage().contains("expected 12345"), e.getMessage());
    assertEquals(List.of(), cached());
  }

  @Test
  void aTransferCutShortCachesNothingAndTheNextTryStartsAfresh() throws IOException {
    mode = "short";
    GraftException e = assertThrows(GraftException.class, () -> fetch(good(), false));
    assertTrue(e.getMessage().contains(url.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("GRAFT_OFFLINE"), e.getMessage());
    assertEquals(List.of(), cached());
    mode = "whole";
    assertArrayEquals(body, Files.readAllBytes(fetch(good(), false)));
  }

  @Test
  void anHttpErrorNamesTheUrlAndStatus() throws IOException {
    mode = "missing";
    GraftException e = assertThrows(GraftException.class, () -> fetch(good(), false));
    assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
    assertTrue(e.getMessage().contains(url.toString()), e.getMessage());
    assertEquals(List.of(), cached());
  }

  @Test
  void aCorruptCachedCopyIsDownloadedAgain() throws IOException {
    Files.write(cache.resolve("w.zip"), new byte[] {1, 2, 3});
    Path got = fetch(good(), false);
    assertArrayEquals(body, Files.readAllBytes(got));
    assertEquals(1, requests.get());
  }

  @Test
  void offlineModeNeverConnects() throws IOException {
    GraftException missing = assertThrows(GraftException.class, () -> fetch(good(), true));
    assertTrue(missing.getMessage().startsWith("offline mode: test weights not in the cache"));
    assertTrue(missing.getMessage().contains(url.toString()), missing.getMessage());

    byte[] corrupt = {1, 2, 3};
    Files.write(cache.resolve("w.zip"), corrupt);
    GraftException bad = assertThrows(GraftException.class, () -> fetch(good(), true));
    assertTrue(bad.getMessage().contains("is corrupt"), bad.getMessage());
    assertArrayEquals(corrupt, Files.readAllBytes(cache.resolve("w.zip")), "left as it was");
    assertEquals(0, requests.get());
    assertFalse(cached().stream().anyMatch(n -> n.endsWith(".part")));
  }

  @Test
  void progressLinesGiveBytesPercentAndEta() {
    String line =
        Downloader.progress(
            URI.create("http://h/models/x.zip"), 50_000_000L, 200_000_000L, 5_000_000_000L);
    assertEquals("x.zip: 50.0 of 200.0 MB (25 %), 10.0 MB/s, ETA 15 s", line);
  }
}
