package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.TransferModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo end to end at a tiny scale (the full-size numbers are in the README). */
class DemoCliTest {
  @TempDir Path dir;

  @Test
  void tinyDemoPrintsTheTableWritesModelsAndTheReport() throws Exception {
    Path report = dir.resolve("report");
    Path models = dir.resolve("models");
    Cli.Result r =
        Cli.run(
            "demo",
            "--labels",
            "5",
            "--pretrain",
            "40",
            "--pretrain-epochs",
            "1",
            "--test",
            "10",
            "--validation",
            "4",
            "--epochs",
            "4",
            "--strategies",
            "frozen,features,scratch",
            "--report",
            report.toString(),
            "--out",
            models.toString(),
            "--work",
            dir.resolve("work").toString());
    assertEquals(0, r.code(), r.toString());
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.contains("strategy   labels per class  held-out accuracy   seconds"), r.out());
    Map<String, Double> accuracy = new HashMap<>();
    for (String s : List.of("frozen", "features", "scratch")) {
      Matcher row =
          lines.stream()
              .map(Pattern.compile(s + " +5 +([01]\\.\\d{3}) +\\d+\\.\\d")::matcher)
              .filter(Matcher::matches)
              .findFirst()
              .orElseThrow(() -> new AssertionError(s + "\n" + r.out()));
      accuracy.put(s, Double.parseDouble(row.group(1)));
      TransferModel m = TransferModel.load(models.resolve(s + "-5.graft"));
      assertEquals(List.of("5", "6", "7", "8", "9"), m.labels());
    }
    // the demo's point, even this small (measured: features 0.76, frozen 0.24, scratch 0.28 on
    // these 50 images): the best transfer beats the same network from scratch, by a margin, and
    // the summary line says so with the table's numbers
    double best = Math.max(accuracy.get("frozen"), accuracy.get("features"));
    double scratch = accuracy.get("scratch");
    assertTrue(best > scratch + 0.2, accuracy + "\n" + r.out());
    String summary =
        String.format(
            Locale.ROOT,
            "5 labels/class: best transfer %.3f vs from scratch %.3f (+%.1f points)",
            best,
            scratch,
            100 * (best - scratch));
    assertTrue(lines.contains(summary), summary + "\n" + r.out());
    String html = Files.readString(report.resolve("index.html"));
    assertTrue(html.contains("<table class=\"summary\">"));
    assertEquals(
        3,
        html.substring(html.indexOf("<table class=\"summary\">"))
                .split("</table>")[0]
                .split("<tbody>")[1]
                .split("<tr>")
                .length
            - 1,
        "one row per run");
    assertTrue(html.contains("class=\"confusion\""));
    assertTrue(
        html.split("data:image/png;base64,").length - 1 >= 5,
        "bar chart, curves, per-class charts");
    assertTrue(Files.exists(dir.resolve("work/target-test/9")), "digits extracted to --work");
  }

  @Test
  void badDemoValuesExitTwo() {
    Cli.Result r = Cli.run("demo", "--labels", "0", "--report", dir.resolve("r").toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--labels"), r.err());
    Cli.Result s =
        Cli.run("demo", "--strategies", "magic", "--report", dir.resolve("r").toString());
    assertEquals(2, s.code(), s.toString());
    assertTrue(s.err().contains("magic"), s.err());
  }
}
