package dev.graft.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Child-JVM entry point of {@link HostileCliMemoryTest}: runs each line of a cases file (tab
 * separated: a name, then the {@code graft} arguments) through the CLI in turn and prints, per
 * case, one tab-separated line: name, exit code, milliseconds, peak resident memory in kB ({@code
 * VmHWM}: heap and native alike, reset before each case through {@code /proc/self/clear_refs}), the
 * most the temporary directory ({@code java.io.tmpdir}) grew during the case and what the case left
 * in it (kB), the control characters other than newline and tab written to stdout, the longest
 * stderr line, and stderr with its line breaks shown as {@code " | "}.
 */
final class PeakMemoryMain {
  private PeakMemoryMain() {}

  /** Runs the cases file {@code args[0]}; results on stdout, one line per case. */
  public static void main(String[] args) throws Exception {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    AtomicLong tmpMax = new AtomicLong();
    Thread sampler =
        new Thread(
            () -> {
              while (true) {
                tmpMax.accumulateAndGet(bytesUnder(tmp), Math::max);
                try {
                  Thread.sleep(2);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "tmp-sampler");
    sampler.setDaemon(true);
    sampler.start();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      List<String> fields = List.of(line.split("\t"));
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      PrintStream realErr = System.err;
      System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
      resetPeak();
      long tmpBefore = bytesUnder(tmp);
      tmpMax.set(tmpBefore);
      long start = System.nanoTime();
      int code =
          GraftCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
              .execute(fields.subList(1, fields.size()).toArray(String[]::new));
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.setErr(realErr);
      err.write(log.toString(StandardCharsets.UTF_8));
      long peak = peakKb();
      long tmpAfter = bytesUnder(tmp);
      long tmpGrowth = Math.max(tmpMax.get(), tmpAfter) - tmpBefore;
      long control = out.toString().chars().filter(c -> c < 0x20 && c != '\n' && c != '\t').count();
      int longest = err.toString().lines().mapToInt(String::length).max().orElse(0);
      String errText = err.toString().strip().replace("\r", "\\r").replace("\n", " | ");
      System.out.println(
          String.join(
              "\t",
              fields.get(0),
              Integer.toString(code),
              Long.toString(millis),
              Long.toString(peak),
              Long.toString(tmpGrowth >> 10),
              Long.toString((tmpAfter - tmpBefore) >> 10),
              Long.toString(control),
              Integer.toString(longest),
              errText.length() > 4000 ? errText.substring(0, 4000) + "..." : errText));
    }
    System.exit(0);
  }

  /** Resets {@code VmHWM} to the current resident set (Linux 4.0 and later). */
  private static void resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reset the peak resident memory", e);
    }
  }

  /** The process's peak resident set since the last reset, in kB ({@code VmHWM}). */
  static long peakKb() throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmHWM:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmHWM in /proc/self/status");
  }

  /** Bytes of the regular files under {@code dir} (files vanishing meanwhile count as 0). */
  private static long bytesUnder(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.mapToLong(
              p -> {
                try {
                  return Files.isRegularFile(p) ? Files.size(p) : 0;
                } catch (IOException gone) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | UncheckedIOException gone) {
      return 0;
    }
  }
}
