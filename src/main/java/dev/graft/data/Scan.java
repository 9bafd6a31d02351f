package dev.graft.data;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Shared checking of scanned files: header probe, optional full decode, skip or strict. */
final class Scan {

  private static final Logger log = LoggerFactory.getLogger(Scan.class);

  private final ScanOptions options;
  private final List<SkippedFile> skipped = new ArrayList<>();

  Scan(ScanOptions options) {
    this.options = options;
  }

  List<SkippedFile> skipped() {
    return skipped;
  }

  /** Records a bad file: one warning, or in strict mode a {@link GraftException}. */
  void bad(Path file, String reason) {
    if (options.strict()) {
      throw new GraftException("bad image file " + file + ": " + reason);
    }
    log.warn(
        "Skipping {}: {}",
        dev.graft.io.SafeText.escape(file.toString()),
        dev.graft.io.SafeText.line(reason, dev.graft.io.SafeText.MAX_LINE));
    skipped.add(new SkippedFile(file, reason));
  }

  /** Files that pass the checks, in the given order. */
  List<Sample> check(List<Sample> candidates) throws IOException {
    List<Sample> ok = new ArrayList<>(candidates.size());
    for (Sample s : candidates) {
      String reason;
      if (dev.graft.io.SafeText.hasControl(s.path().getFileName().toString())) {
        // A newline in a name would break the run's checkpoint and reports: never used.
        reason = "its name holds control characters; rename it to use it";
      } else if (!Files.isRegularFile(s.path())) {
        reason = Files.exists(s.path()) ? "not a regular file" : "file not found";
      } else {
        try {
          reason = ImageDecoder.probe(s.path());
        } catch (IOException e) {
          reason = "cannot read (" + e + ")";
        }
      }
      if (reason == null) {
        ok.add(s);
      } else {
        bad(s.path(), reason);
      }
    }
    return options.verify() ? verify(ok) : ok;
  }

  /** Decodes every file in parallel; keeps the order; reports failures in order. */
  private List<Sample> verify(List<Sample> samples) throws IOException {
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "graft-verify");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<String>> results = new ArrayList<>(samples.size());
      for (Sample s : samples) {
        results.add(
            pool.submit(
                () -> {
                  try {
                    ImageDecoder.read(s.path());
                    return null;
                  } catch (IOException e) {
                    return reasonOf(e, s.path());
                  }
                }));
      }
      List<Sample> ok = new ArrayList<>(samples.size());
      for (int i = 0; i < samples.size(); i++) {
        String reason;
        try {
          reason = results.get(i).get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while verifying images", e);
        } catch (ExecutionException e) {
          reason = "cannot decode (" + e.getCause() + ")";
        }
        if (reason == null) {
          ok.add(samples.get(i));
        } else {
          bad(samples.get(i).path(), reason);
        }
      }
      return ok;
    } finally {
      pool.shutdownNow();
    }
  }

  /** The reason part of an {@link ImageDecoder} message (which starts with the file name). */
  static String reasonOf(IOException e, Path file) {
    return SkippedFile.reason(file.toString(), e);
  }

  /** Logs the end-of-scan summary. */
  void summarize(ImageDataset data) {
    log.info("{}", data.describe());
    if (!skipped.isEmpty()) {
      log.warn(
          "Skipped {} unreadable file{} in {} (ImageDataset.skipped() lists them)",
          skipped.size(),
          skipped.size() == 1 ? "" : "s",
          data.source());
    }
  }
}
