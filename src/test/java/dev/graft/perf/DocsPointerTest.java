package dev.graft.perf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The log lines that send a user to the docs for the oneDNN build name a section that exists (the
 * "oneDNN off" pointer once named a section renamed since).
 */
class DocsPointerTest {
  @Test
  void theSpeedBuildPointerNamesAnExistingSection() throws IOException {
    Matcher m =
        Pattern.compile("(docs/[\\w-]+\\.md), \"([^\"]+)\"").matcher(NativeTuning.SPEED_BUILD_DOCS);
    assertTrue(m.matches(), NativeTuning.SPEED_BUILD_DOCS);
    String page = Files.readString(Path.of(m.group(1))); // tests run in the project directory
    String title = m.group(2);
    assertTrue(
        page.contains("**" + title + ".**") || page.contains("## " + title + "\n"),
        m.group(1) + " has no section \"" + title + "\"");
  }
}
