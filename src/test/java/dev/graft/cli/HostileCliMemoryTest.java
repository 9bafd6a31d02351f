package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.data.HostileImages;
import dev.graft.io.HostileFiles;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bound, checked rather than assumed: crafted files through the CLI in a child JVM with
 * {@code -Xmx1g}, each case within 30 s, and the child's peak resident memory (heap and native,
 * {@code VmHWM}) under 1 GiB over all the cases.
 */
class HostileCliMemoryTest {
  static final long PEAK_LIMIT_KB = 1L << 20;
  static final long CASE_LIMIT_MS = 30_000;

  @TempDir Path dir;

  @Test
  void craftedFilesEndQuicklyInUnderOneGigabyte() throws Exception {
    Path data = TinyNets.digits(dir.resolve("data"), HostileFiles.LABELS, 4);
    Path model = HostileFiles.goodGraft(dir.resolve("m.graft"));
    Path bad = Files.createDirectories(dir.resolve("bad"));
    Map<String, Integer> expected = new LinkedHashMap<>();
    List<String> cases = new ArrayList<>();
    for (Path image : badImages(bad)) {
      add(cases, expected, 2, "image " + image.getFileName(), "predict", "--model", model, image);
    }
    for (Path graft :
        List.of(
            HostileFiles.nestedBombGraft(dir),
            HostileFiles.inputSizeGraft(dir, 16384),
            HostileFiles.longNumberGraft(dir, 4_000_000),
            HostileFiles.graftWith(dir, "bomb.graft", HostileFiles.bombZip(dir)))) {
      add(
          cases,
          expected,
          2,
          "model " + graft.getFileName(),
          "predict",
          "--model",
          graft,
          data.resolve("4/0001.png"));
    }
    // A folder holding good images and the bad ones: the bad are skipped, the run goes on.
    badImages(data.resolve("4"));
    add(cases, expected, 0, "folder huge-png.png", "predict", "--model", model, data);
    Path casesFile = Files.write(dir.resolve("cases.tsv"), cases);

    List<String> cmd =
        ChildJvm.command(List.of(), PeakMemoryMain.class, List.of(casesFile.toString()));
    Path out = dir.resolve("child.out");
    Path err = dir.resolve("child.err");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(expected.size() * CASE_LIMIT_MS + 120_000, TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("child timed out: " + Files.readString(out) + Files.readString(err));
    }
    String log = Files.readString(out) + "\n--- stderr\n" + Files.readString(err);
    assertEquals(0, p.exitValue(), log);
    List<String> results = Files.readAllLines(out);
    assertEquals(expected.size(), results.size(), log);
    long peak = 0;
    for (String line : results) {
      String[] f = line.split("\t", 5);
      assertEquals(expected.get(f[0]), Integer.valueOf(f[1]), line);
      String file = f[0].substring(f[0].indexOf(' ') + 1);
      assertTrue(f[4].contains(file) && !f[4].contains("no such file"), line);
      assertTrue(Long.parseLong(f[2]) < CASE_LIMIT_MS, "over 30 s: " + line);
      peak = Long.parseLong(f[3]);
    }
    System.out.println("hostile CLI cases, child JVM -Xmx1g:\n" + String.join("\n", results));
    assertTrue(peak < PEAK_LIMIT_KB, "peak resident " + peak + " kB over 1 GiB:\n" + log);
  }

  /** Tiny images declaring huge sizes, a {@code /dev/zero} link and a 3 GB sparse file. */
  private static List<Path> badImages(Path dir) throws Exception {
    return List.of(
        HostileImages.huge(dir, HostileImages.Format.WEBP_LOSSLESS),
        HostileImages.huge(dir, HostileImages.Format.WEBP_LOSSY),
        HostileImages.huge(dir, HostileImages.Format.PNG),
        HostileImages.devZero(dir, "zero.jpg"),
        HostileImages.sparse(dir, "sparse.png", 3L << 30));
  }

  private static void add(
      List<String> cases, Map<String, Integer> expected, int code, String name, Object... args) {
    expected.put(name, code);
    List<String> fields = new ArrayList<>();
    fields.add(name);
    for (Object a : args) {
      fields.add(a.toString());
    }
    cases.add(String.join("\t", fields));
  }
}
