package dev.graft.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Child-JVM entry point of {@link HostileCliMemoryTest}: runs each line of a cases file (tab
 * separated: a name, then the {@code graft} arguments) through the CLI in turn and prints, per
 * case, {@code name<TAB>exit<TAB>millis<TAB>VmHWM kB<TAB>first stderr line}. VmHWM (the process's
 * peak resident memory, heap and native alike, from {@code /proc/self/status}) only grows, so the
 * value after the last case bounds every case.
 */
final class PeakMemoryMain {
  private PeakMemoryMain() {}

  /** Runs the cases file {@code args[0]}; results on stdout, one line per case. */
  public static void main(String[] args) throws Exception {
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      List<String> fields = List.of(line.split("\t"));
      StringWriter err = new StringWriter();
      long start = System.nanoTime();
      int code =
          GraftCli.commandLine(
                  new PrintWriter(new StringWriter(), true), new PrintWriter(err, true))
              .execute(fields.subList(1, fields.size()).toArray(String[]::new));
      long millis = (System.nanoTime() - start) / 1_000_000;
      String first = err.toString().strip().lines().findFirst().orElse("");
      System.out.println(
          String.join(
              "\t",
              fields.get(0),
              Integer.toString(code),
              Long.toString(millis),
              Long.toString(peakKb()),
              first));
    }
    System.exit(0);
  }

  /** The process's peak resident set so far, in kB ({@code VmHWM}). */
  static long peakKb() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmHWM:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmHWM in /proc/self/status");
  }
}
