package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.data.HostileImages;
import dev.graft.io.HostileFiles;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile images through the CLI: a single bad {@code predict IMAGE} exits 2 naming it; in {@code
 * predict DIR} and {@code train} each bad file is skipped with a warning and the run goes on.
 */
class HostileImagesCliTest {
  private static final Duration QUICK = Duration.ofSeconds(30);
  @TempDir static Path dir;
  static Path data;
  static Path model;
  static List<Path> bad;

  @BeforeAll
  static void setUp() throws Exception {
    data = TinyNets.digits(dir.resolve("data"), HostileFiles.LABELS, 4);
    model = HostileFiles.goodGraft(dir.resolve("m.graft"));
    Path cls = data.resolve("4");
    bad =
        List.of(
            HostileImages.huge(cls, HostileImages.Format.WEBP_LOSSLESS),
            HostileImages.huge(cls, HostileImages.Format.WEBP_LOSSY),
            HostileImages.huge(cls, HostileImages.Format.PNG),
            HostileImages.fifo(cls, "fifo.jpg"),
            HostileImages.devZero(cls, "zero.jpg"),
            HostileImages.sparse(cls, "sparse.png", 3L << 30));
  }

  @Test
  void aSingleBadImageExitsTwoNamingIt() {
    for (Path f : bad) {
      Cli.Result r =
          assertTimeoutPreemptively(
              QUICK, () -> Cli.run("predict", "--model", model.toString(), f.toString()));
      assertEquals(2, r.code(), r.toString());
      assertTrue(r.err().contains(f.toString()), r.toString());
      assertEquals(1, r.err().strip().lines().count(), r.toString());
    }
  }

  @Test
  void predictOnAFolderSkipsTheBadImages() {
    Cli.Result r =
        assertTimeoutPreemptively(
            QUICK, () -> Cli.run("predict", "--model", model.toString(), data.toString()));
    assertEquals(0, r.code(), r.toString());
    assertEquals(12, r.out().lines().filter(l -> l.contains(".png: ")).count(), r.toString());
    for (Path f : List.of(bad.get(0), bad.get(1), bad.get(2))) {
      assertTrue(r.err().contains("skipped " + f), r.toString());
    }
  }

  @Test
  void trainSkipsTheBadImagesAndGoesOn() throws Exception {
    Path zip = HostileFiles.goodZip(dir.resolve("base.zip"));
    Path out = dir.resolve("out.graft");
    Cli.Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60), () -> HostileFilesCliTest.trainFrozen(data, zip, out));
    assertEquals(0, r.code(), r.toString());
    assertTrue(Files.exists(out), r.toString());
  }
}
