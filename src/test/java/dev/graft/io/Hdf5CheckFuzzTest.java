package dev.graft.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link Hdf5Check#check}, the Java pre-check every {@code .h5} passes before the native
 * HDF5 library opens it: it accepts or refuses with a {@link RefusedFileException}, never another
 * exception. (The native parser behind it is trusted and not fuzzed here: a crash in it would take
 * the JVM down; see docs/security.md.)
 */
class Hdf5CheckFuzzTest {
  static Path file;

  @BeforeAll
  static void seeds() throws Exception {
    Path dir = Files.createTempDirectory("graft-fuzz-h5");
    file = dir.resolve("fuzzed.h5");
    FuzzSeeds.write(
        Hdf5CheckFuzzTest.class,
        "fuzz",
        Map.of("good", FuzzSeeds.bytes(dev.graft.base.keras.HostileH5.goodFile(dir))));
  }

  @FuzzTest(maxDuration = "25s")
  void fuzz(byte[] bytes) throws Exception {
    Files.write(file, bytes);
    try {
      Hdf5Check.check(file, Limits.defaults());
    } catch (RefusedFileException expected) {
      // refused: exit 2
    }
  }
}
