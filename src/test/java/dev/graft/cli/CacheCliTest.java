package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.features.CacheRoot;
import dev.graft.features.FeatureCache;
import dev.graft.features.FeatureKey;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code graft cache}: lists per key, prunes, and refuses bad values with exit 2. */
class CacheCliTest {
  @TempDir Path dir;

  @Test
  void listsThenPrunesEverything() throws Exception {
    FeatureKey key = new FeatureKey("vgg16", "none:seed=3", "block5_pool", "caffe", 32);
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
}
