package dev.graft.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.error.GraftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link NetworkZip#read(Path)} (every DL4J zip, {@code --base FILE.zip}, a {@code .graft}'s
 * network): whatever the bytes, the reader returns a network or refuses with a {@link
 * GraftException} (exit 2), never another exception, a hang or an out-of-memory error. Seeds: a
 * good tiny network zip and the hostile ones {@link HostileFiles} crafts.
 */
class NetworkZipFuzzTest {
  static Path file;

  @BeforeAll
  static void seeds() throws Exception {
    Path dir = Files.createTempDirectory("graft-fuzz-zip");
    file = dir.resolve("fuzzed.zip");
    Map<String, byte[]> seeds = new LinkedHashMap<>();
    seeds.put("good", FuzzSeeds.bytes(HostileFiles.goodZip(dir.resolve("good.zip"))));
    seeds.put("payload", FuzzSeeds.bytes(HostileFiles.payloadZip(dir)));
    seeds.put("class", FuzzSeeds.bytes(HostileFiles.offAllowlistZip(dir)));
    seeds.put("duplicate", FuzzSeeds.bytes(HostileFiles.duplicateClassZip(dir)));
    seeds.put("truncated", FuzzSeeds.bytes(HostileFiles.truncatedEntryZip(dir)));
    seeds.put("overflow", FuzzSeeds.bytes(HostileGraphs.overflowingDenseZip(dir)));
    seeds.put("kernel", FuzzSeeds.bytes(HostileGraphs.hugeKernelZip(dir)));
    FuzzSeeds.write(NetworkZipFuzzTest.class, "fuzz", seeds);
  }

  @FuzzTest(maxDuration = "25s")
  void fuzz(byte[] bytes) throws Exception {
    Files.write(file, bytes);
    try {
      NetworkZip.read(file).close();
    } catch (GraftException expected) {
      // refused: exit 2
    }
  }
}
