package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** The download progress line (the downloads themselves: {@code base.ImagenetDownloadTest}). */
class DownloaderTest {
  @Test
  void progressLinesGiveBytesPercentAndEta() {
    String line =
        Downloader.progress(
            URI.create("http://h/models/x.zip"), 50_000_000L, 200_000_000L, 5_000_000_000L);
    assertEquals("x.zip: 50.0 of 200.0 MB (25 %), 10.0 MB/s, ETA 15 s", line);
  }
}
