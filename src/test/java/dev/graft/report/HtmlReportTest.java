package dev.graft.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
  @TempDir Path tmp;

  static int count(String html, String regex) {
    Matcher m = Pattern.compile(regex).matcher(html);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  /** The rows of the first table with the given class. */
  static int tableRows(String html, String cls) {
    int start = html.indexOf("<table class=\"" + cls + "\">");
    assertTrue(start >= 0, "table." + cls + " present");
    String table = html.substring(start, html.indexOf("</table>", start));
    String body = table.substring(table.indexOf("<tbody>"));
    return count(body, "<tr[ >]");
  }

  @Test
  void pageHasEverySectionChartAndTableRow() throws Exception {
    History h = new History();
    for (int e = 1; e <= 4; e++) {
      h.add(new EpochRecord(e, 1.0 / e, 0.5 + 0.1 * e, 1.1 / e, 0.45 + 0.1 * e, 1e-3, 0.5));
    }
    List<String> labels = List.of("cat", "dog", "<fox>");
    int[] actual = {0, 0, 1, 1, 2, 2, 2};
    float[][] probs = {
      {0.9f, 0.05f, 0.05f},
      {0.2f, 0.7f, 0.1f},
      {0.1f, 0.8f, 0.1f},
      {0.3f, 0.6f, 0.1f},
      {0.1f, 0.1f, 0.8f},
      {0.1f, 0.2f, 0.7f},
      {0.6f, 0.2f, 0.2f}
    };
    ClassificationReport r = ClassificationReport.of(labels, actual, probs);
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("base", "resnet50");
    settings.put("strategy", "finetune");
    settings.put("epochs", "4");
    Path page =
        HtmlReport.builder("pets & <friends>")
            .settings(settings)
            .learningCurves("Learning curves", h)
            .evaluation("Validation set", r)
            .table(
                "Runs",
                List.of("strategy", "accuracy"),
                List.of(List.of("frozen", "0.9"), List.of("scratch", "0.5")))
            .build()
            .write(tmp.resolve("rep"));
    assertEquals(tmp.resolve("rep/index.html"), page);
    String html = Files.readString(page);
    assertTrue(html.startsWith("<!DOCTYPE html>"));
    assertTrue(html.contains("<title>pets &amp; &lt;friends&gt;</title>"), "title escaped");
    assertFalse(html.contains("<fox>"), "labels escaped");
    for (String id : List.of("settings-1", "curves-2", "evaluation-3", "table-4")) {
      assertTrue(html.contains("<section id=\"" + id + "\""), id);
    }
    assertEquals(3, tableRows(html, "settings"));
    assertEquals(4, tableRows(html, "history"));
    assertEquals(3, tableRows(html, "confusion"));
    assertEquals(3, tableRows(html, "per-class"));
    assertEquals(2, tableRows(html, "summary"));
    assertTrue(
        html.contains("<tr class=\"best\"><td>4</td>"), "best epoch (lowest val. loss) marked");
    // Confusion matrix values: actual cat row = 1 cat, 1 dog, 0 fox.
    assertTrue(
        html.contains(">cat</th><td style=\"background:rgba(44,160,44,0.44)\">1</td>"), "cm row");
    // Three charts (loss, accuracy, per-class), each a real PNG embedded as base64; nothing
    // external.
    Matcher m =
        Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
    int images = 0;
    while (m.find()) {
      byte[] png = Base64.getDecoder().decode(m.group(1));
      assertEquals((byte) 0x89, png[0]);
      assertEquals('P', png[1]);
      assertTrue(png.length > 2000, "a drawn chart, not an empty image");
      images++;
    }
    assertEquals(3, images);
    assertFalse(
        html.contains("http://") || html.contains("https://") || html.contains("src=\"file"),
        "self-contained");
    assertEquals(0, count(html, "\\.tmp"));
  }

  @Test
  void emptyHistoryStillGivesAPage() throws Exception {
    String html = HtmlReport.builder(null).learningCurves("Curves", new History()).build().html();
    assertTrue(html.contains("No epochs were recorded."));
    assertEquals(0, count(html, "<img "));
  }

  @Test
  void settingsKeysReadAsWords() {
    assertEquals("batch size", HtmlReport.words("batchSize"));
    assertEquals("weights SHA-256", HtmlReport.words("weightsSha256"));
    assertEquals("input size", HtmlReport.words("input size"));
    assertEquals("L2 selection", HtmlReport.words("l2Selection"));
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("batchSize", "32");
    String html = HtmlReport.builder("t").settings(settings).build().html();
    assertTrue(html.contains("<th scope=\"row\">batch size</th>"), html);
  }

  @Test
  void aSaturatedSoftmaxIsCalledOutWithAFix() {
    History h = new History();
    for (int e = 1; e <= 3; e++) {
      h.add(new EpochRecord(e, 23.0259, 0.1, 23.0259, 0.1, 1e-3, 0.5));
    }
    String html = HtmlReport.builder("t").learningCurves("Curves", h).build().html();
    assertTrue(html.contains("class=\"warning\""), "warning shown");
    assertTrue(html.contains("The softmax is saturated"));
    assertTrue(html.contains("--head logreg"));

    History fine = new History();
    fine.add(new EpochRecord(1, 1.2, 0.5, 1.1, 0.5, 1e-3, 0.5));
    fine.add(new EpochRecord(2, 0.9, 0.6, 23.5, 0.5, 1e-3, 0.5)); // one bad epoch is not it
    String ok = HtmlReport.builder("t").learningCurves("Curves", fine).build().html();
    assertFalse(ok.contains("class=\"warning\""));
  }
}
