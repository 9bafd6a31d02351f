package dev.graft.base.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.io.HostileFiles;
import dev.graft.io.RefusedFileException;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code .h5} that is not HDF5, or is cut short, is refused before the native library opens it.
 */
class Hdf5CheckTest {
  @TempDir Path dir;

  private RefusedFileException refused(Path h5) {
    ComputationGraph target = TinyNets.classifier(28, 3, 9);
    return assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> assertThrows(RefusedFileException.class, () -> KerasWeights.load(target, h5)));
  }

  @Test
  void aGoodFileStillLoads() throws Exception {
    ComputationGraph source = TinyNets.classifier(28, 3, 5);
    Path h5 = dir.resolve("good.h5");
    KerasWeightsWriter.save(source, h5);
    ComputationGraph target = TinyNets.classifier(28, 3, 9);
    KerasWeights.load(target, h5);
    assertArrayEquals(source.params().toFloatVector(), target.params().toFloatVector(), 0f);
  }

  @Test
  void aNonHdf5FileIsRefused() throws Exception {
    Path zip = HostileFiles.goodZip(dir.resolve("model.zip"));
    Path h5 = Files.copy(zip, dir.resolve("weights.h5"));
    RefusedFileException e = refused(h5);
    assertEquals(h5, e.file());
    assertTrue(e.getMessage().contains("not an HDF5 file"), e.getMessage());
    assertTrue(
        refused(Files.write(dir.resolve("empty.h5"), new byte[0]))
            .getMessage()
            .contains("not an HDF5 file"));
  }

  @Test
  void aTruncatedFileIsRefused() throws Exception {
    Path h5 = dir.resolve("whole.h5");
    KerasWeightsWriter.save(TinyNets.classifier(28, 3, 5), h5);
    byte[] all = Files.readAllBytes(h5);
    Path cut = Files.write(dir.resolve("cut.h5"), Arrays.copyOf(all, all.length / 2));
    RefusedFileException e = refused(cut);
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }
}
