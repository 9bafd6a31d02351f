package dev.graft.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The managed cache: location, LRU eviction under a cap, prune, and safe cleaning of leftovers. */
class CacheRootTest {
  @TempDir Path dir;

  /** A cache of {@code key} holding {@code n} rows of 1,000 floats (about 4 KB each). */
  private static Path fill(CacheRoot root, String key, int n) throws Exception {
    try (FeatureCache c = root.open(key)) {
      for (int i = 0; i < n; i++) {
        byte[] h = new byte[32];
        h[0] = (byte) i;
        h[1] = (byte) key.hashCode();
        c.put(HexFormat.of().formatHex(h), new float[1000]);
      }
      return c.directory();
    }
  }

  private static void usedAgo(Path keyDir, Duration ago) throws Exception {
    Files.setLastModifiedTime(
        keyDir.resolve(CacheDirectory.USED_FILE), FileTime.from(Instant.now().minus(ago)));
  }

  @Test
  void overTheCapTheLeastRecentlyUsedGoFirstButNeverOneInUse() throws Exception {
    CacheRoot big = CacheRoot.at(dir).withMaxBytes(1L << 30);
    Path oldest = fill(big, "oldest", 10);
    Path old = fill(big, "old", 10);
    Path recent = fill(big, "recent", 10);
    usedAgo(oldest, Duration.ofDays(3));
    usedAgo(old, Duration.ofDays(2));
    usedAgo(recent, Duration.ofDays(1));
    long each = big.list().get(0).bytes();
    assertTrue(each > 40_000, "a key directory holds its rows: " + each);

    // cap for about two and a half directories: adding a fourth evicts the two least recent,
    // except that "oldest" is open in this process and must survive
    CacheRoot capped = CacheRoot.at(dir).withMaxBytes(each * 5 / 2);
    try (FeatureCache inUse = capped.open("oldest")) {
      fill(capped, "newest", 10);
      List<String> left =
          capped.list().stream().map(e -> e.directory().getFileName().toString()).toList();
      assertTrue(left.contains(oldest.getFileName().toString()), "evicted a cache in use");
      assertFalse(left.contains(old.getFileName().toString()), "the least recent unused stays");
      assertFalse(left.contains(recent.getFileName().toString()), "still over the cap");
      assertEquals(2, left.size(), left.toString());
      assertEquals(10, inUse.size());
    }
  }

  @Test
  void pruneByAgeBySizeAndAll() throws Exception {
    CacheRoot root = CacheRoot.at(dir).withMaxBytes(1L << 30);
    Path a = fill(root, "a", 5);
    Path b = fill(root, "b", 5);
    Path c = fill(root, "c", 5);
    usedAgo(a, Duration.ofDays(40));
    usedAgo(b, Duration.ofDays(10));
    // another Graft's layout is never touched
    Path foreign = Files.createDirectories(dir.resolve("features-v999/x"));
    Files.writeString(foreign.resolve("data"), "other version");

    CacheRoot.Pruned byAge = root.prune(Duration.ofDays(30), null, false);
    assertEquals(1, byAge.directories());
    assertFalse(Files.exists(a));
    assertTrue(Files.exists(b) && Files.exists(c));

    long one = root.list().get(0).bytes();
    CacheRoot.Pruned bySize = root.prune(null, one, false);
    assertEquals(1, bySize.directories());
    assertFalse(Files.exists(b), "the least recently used goes first");
    assertTrue(Files.exists(c));

    CacheRoot.Pruned all;
    try (FeatureCache open = root.open("c")) {
      all = root.prune(null, null, true);
      assertEquals(0, all.directories());
      assertEquals(1, all.skippedInUse());
    }
    all = root.prune(null, null, true);
    assertEquals(1, all.directories());
    assertEquals(List.of(), root.list());
    assertTrue(Files.exists(foreign.resolve("data")), "another version's data was deleted");
  }

  @Test
  void listShowsEntriesSizeAndBase() throws Exception {
    CacheRoot root = CacheRoot.at(dir);
    FeatureKey key =
        TinyNets.pooledKey(
            "resnet50", "none:seed=1", dev.graft.base.Preprocessing.caffe(), 32, "avg_pool");
    try (FeatureCache c = root.open(key)) {
      c.put("00".repeat(32), new float[] {1, 2, 3});
      c.put("01".repeat(32), new float[] {4, 5, 6});
    }
    CacheRoot.Entry e = root.list().get(0);
    assertEquals(2, e.entries());
    assertTrue(e.description().contains("base=resnet50"), e.description());
    assertTrue(e.description().contains("cut=avg_pool"), e.description());
    assertFalse(e.inUse());
    assertTrue(e.bytes() > 2 * (32 + 12));
  }

  @Test
  void leftoversOfDeadWritersAreCleanedButALiveWritersFileIsKept() throws Exception {
    CacheRoot root = CacheRoot.at(dir);
    Path keyDir = fill(root, "k", 1);
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor(10, TimeUnit.SECONDS);
    Process live = new ProcessBuilder("sleep", "60").start();
    try {
      Path deadTmp = keyDir.resolve(".seg-" + dead.pid() + "-abc.tmp");
      Path liveTmp = keyDir.resolve(".seg-" + live.pid() + "-abc.tmp");
      Files.writeString(deadTmp, "partial");
      Files.writeString(liveTmp, "being written");
      try (FeatureCache c = root.open("k")) {
        assertEquals(1, c.size());
      }
      assertFalse(Files.exists(deadTmp), "a dead writer's temporary file stayed");
      assertTrue(Files.exists(liveTmp), "a live writer's temporary file was deleted");
    } finally {
      live.destroyForcibly();
    }
  }

  @Test
  void locationComesFromPropertyEnvironmentXdgOrHome() {
    String saved = System.getProperty(CacheRoot.DIR_PROPERTY);
    try {
      System.clearProperty(CacheRoot.DIR_PROPERTY);
      assertEquals(
          Path.of(System.getProperty("user.home"), ".cache", "graft"),
          CacheRoot.standardLocation(Map.of()));
      assertEquals(
          Path.of("/x/cache/graft"),
          CacheRoot.standardLocation(Map.of("XDG_CACHE_HOME", "/x/cache")));
      assertEquals(
          Path.of("/env/dir"),
          CacheRoot.standardLocation(
              Map.of("XDG_CACHE_HOME", "/x/cache", CacheRoot.DIR_ENV, "/env/dir")));
      System.setProperty(CacheRoot.DIR_PROPERTY, "/prop/dir");
      assertEquals(
          Path.of("/prop/dir"), CacheRoot.standardLocation(Map.of(CacheRoot.DIR_ENV, "/env/dir")));
    } finally {
      if (saved == null) {
        System.clearProperty(CacheRoot.DIR_PROPERTY);
      } else {
        System.setProperty(CacheRoot.DIR_PROPERTY, saved);
      }
    }
  }

  @Test
  void sizesParseAndBadOnesNameTheSetting() {
    assertEquals(500L << 20, CacheRoot.parseSize("500M", "x"));
    assertEquals(20L << 30, CacheRoot.parseSize("20g", "x"));
    assertEquals(1536, CacheRoot.parseSize("1.5KiB", "x"));
    assertEquals(123, CacheRoot.parseSize("123", "x"));
    GraftException e =
        assertThrows(GraftException.class, () -> CacheRoot.parseSize("lots", "--max-size"));
    assertTrue(e.getMessage().contains("--max-size") && e.getMessage().contains("'lots'"));
  }
}
