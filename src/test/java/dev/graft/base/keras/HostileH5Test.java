package dev.graft.base.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.io.RefusedFileException;
import dev.graft.model.TinyNets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Keras {@code .h5} files whose first kernel reads another file (external storage, an external
 * link, a virtual dataset), points elsewhere (a soft link), holds strings, needs a plugin filter,
 * or lies past the file's end: each refused, naming the dataset, in seconds, before any data is
 * read; a FIFO as the other file does not hang.
 */
class HostileH5Test {
  @TempDir static Path dir;
  static Path good;
  static Path secret;
  static Path fifo;

  @BeforeAll
  static void setUp() throws Exception {
    good = dir.resolve("good.h5");
    KerasWeightsWriter.save(TinyNets.classifier(28, 3, 5), good);
    // A local file an attacker would like in the weights: 4 KiB of recognisable floats.
    byte[] bytes = new byte[1 << 16];
    java.util.Arrays.fill(bytes, (byte) 0x41);
    secret = Files.write(dir.resolve("secret.bin"), bytes);
    fifo = dir.resolve("fifo");
    new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
  }

  @ParameterizedTest
  @EnumSource(HostileH5.Kind.class)
  void refusedNamingTheDataset(HostileH5.Kind kind) throws Exception {
    for (Path target : new Path[] {secret, fifo}) {
      Path h5 =
          HostileH5.make(
              good, dir.resolve(kind + "-" + target.getFileName() + ".h5"), kind, target);
      ComputationGraph net = TinyNets.classifier(28, 3, 9);
      float[] before = net.params().toFloatVector();
      RefusedFileException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(10),
              () -> assertThrows(RefusedFileException.class, () -> KerasWeights.load(net, h5)));
      assertEquals(h5, e.file());
      assertEquals(HostileH5.victim(good), e.entry(), e.getMessage());
      assertTrue(e.getMessage().contains("refused"), e.getMessage());
      assertArrayEquals(before, net.params().toFloatVector(), 0f, "no weight was assigned");
    }
  }

  @Test
  void externalStorageReallyReadsTheOtherFileWithoutTheCheck() throws Exception {
    // The attack is real: the native library, asked directly, reads secret.bin's bytes.
    Path h5 =
        HostileH5.make(good, dir.resolve("proof.h5"), HostileH5.Kind.EXTERNAL_STORAGE, secret);
    String victim = HostileH5.victim(good);
    synchronized (org.deeplearning4j.nn.modelimport.keras.Hdf5Archive.LOCK_OBJECT) {
      var f =
          new org.bytedeco.hdf5.H5File(
              h5.toString(), org.bytedeco.hdf5.global.hdf5.H5F_ACC_RDONLY());
      try {
        var d = f.openDataSet(victim);
        float[] out = new float[4];
        var space = d.getSpace();
        long n = space.getSimpleExtentNpoints();
        space.deallocate();
        var buf = new org.bytedeco.javacpp.FloatPointer(n);
        d.read(buf, new org.bytedeco.hdf5.DataType(org.bytedeco.hdf5.PredType.NATIVE_FLOAT()));
        buf.get(out);
        assertEquals(Float.intBitsToFloat(0x41414141), out[0]);
        buf.deallocate();
        d.deallocate();
      } finally {
        f._close();
        f.deallocate();
      }
    }
  }
}
