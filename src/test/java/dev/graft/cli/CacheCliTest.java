package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.features.CacheRoot;
import dev.graft.features.FeatureCache;
import dev.graft.features.FeatureKey;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code graft cache}: lists per key, prunes, and refuses bad values with exit 2. */
class CacheCliTest {
  @TempDir Path dir;

  @Test
  void listsThenPrunesEverything() throws Exception {
    FeatureKey key =
        TinyNets.pooledKey(
            "vgg16", "none:seed=3", dev.graft.base.Preprocessing.caffe(), 32, "block5_pool");
    Path keyDir;
    try (FeatureCache c = CacheRoot.at(dir).open(key)) {
      c.put("ab".repeat(32), new float[] {1, 2});
      keyDir = c.directory();
    }
    Cli.Result list = Cli.run("cache", "--cache", dir.toString());
    assertEquals(0, list.code(), list.toString());
    assertTrue(list.out().contains("base=vgg16"), list.out());
    assertTrue(list.out().contains("1 key(s)"), list.out());

    Cli.Result young = Cli.run("cache", "--cache", dir.toString(), "--older-than", "30d");
    assertEquals(0, young.code(), young.toString());
    assertTrue(young.out().contains("removed 0 cache(s)"), young.out());
    assertTrue(Files.exists(keyDir));

    Cli.Result all = Cli.run("cache", "--cache", dir.toString(), "--all");
    assertEquals(0, all.code(), all.toString());
    assertTrue(all.out().contains("removed 1 cache(s)"), all.out());
    assertFalse(Files.exists(keyDir));
  }

  @Test
  void badValuesNameTheFlag() {
    Cli.Result age = Cli.run("cache", "--cache", dir.toString(), "--older-than", "soon");
    assertEquals(2, age.code(), age.toString());
    assertTrue(age.err().contains("--older-than") && age.err().contains("soon"), age.err());
    Cli.Result size = Cli.run("cache", "--cache", dir.toString(), "--max-size", "big");
    assertEquals(2, size.code(), size.toString());
    assertTrue(size.err().contains("--max-size") && size.err().contains("big"), size.err());
  }

  /**
   * A FIFO in a key folder (named like a segment, and as the key file) does not hang the cache; a
   * key folder that is a symbolic link is neither listed, locked nor written through.
   */
  @Test
  void fifosAndLinkedKeyFoldersAreLeftAlone() throws Exception {
    Path cache = dir.resolve("cache");
    FeatureKey key =
        TinyNets.pooledKey(
            "vgg16", "none:seed=3", dev.graft.base.Preprocessing.caffe(), 32, "block5_pool");
    Path keyDir;
    try (FeatureCache c = CacheRoot.at(cache).open(key)) {
      c.put("ab".repeat(32), new float[] {1, 2});
      keyDir = c.directory();
    }
    dev.graft.data.HostileImages.fifo(keyDir, "zz-fifo.seg");
    Cli.Result list =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(20), () -> Cli.run("cache", "--cache", cache.toString()));
    assertEquals(0, list.code(), list.toString());
    try (FeatureCache c =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(20), () -> CacheRoot.at(cache).open(key))) {
      assertTrue(c.get("ab".repeat(32)).isPresent(), "the real entry is still served");
    }

    // A key folder replaced by a link to a folder elsewhere: cache --all writes nothing there.
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Path linked = keyDir.resolveSibling("linked");
    Files.createSymbolicLink(linked, elsewhere);
    Cli.Result all = Cli.run("cache", "--cache", cache.toString(), "--all");
    assertEquals(0, all.code(), all.toString());
    try (var s = Files.list(elsewhere)) {
      assertEquals(0, s.count(), "nothing created through the link");
    }
  }
}
