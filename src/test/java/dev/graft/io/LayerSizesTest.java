package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.model.ModelFile;
import dev.graft.model.TinyNets;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Allowed layers with absurd sizes are refused, naming the file and the layer, before DL4J runs.
 */
class LayerSizesTest {
  @TempDir Path dir;

  private static void assertNames(RefusedFileException e, Path file, String layer, String what) {
    String m = e.getMessage();
    assertTrue(m.contains(file.getFileName().toString()), m);
    assertTrue(m.contains("layer '" + layer + "'"), m);
    assertTrue(m.contains(what), m);
  }

  @Test
  void aDenseLayerWhoseParameterCountWrapsAroundIsRefused() throws Exception {
    Path zip = HostileGraphs.overflowingDenseZip(dir);
    assertNames(
        assertThrows(RefusedFileException.class, () -> NetworkZip.read(zip)),
        zip,
        "fc",
        "4611686018427387904");
    Path graft = HostileGraphs.graftOf(dir, zip);
    assertNames(
        assertThrows(RefusedFileException.class, () -> ModelFile.read(graft)), graft, "fc", "nIn");
  }

  @Test
  void aHugeKernelIsRefused() throws Exception {
    Path zip = HostileGraphs.hugeKernelZip(dir);
    assertNames(
        assertThrows(RefusedFileException.class, () -> NetworkZip.read(zip)),
        zip,
        "conv",
        "kernelSize of 100000");
  }

  @Test
  void activationsTooLargeForMemoryAtTheModelsInputSizeAreRefused() throws Exception {
    Path graft = HostileGraphs.wideActivationGraft(dir);
    RefusedFileException e = assertThrows(RefusedFileException.class, () -> ModelFile.read(graft));
    assertNames(e, graft, "wide", "MiB of memory for one");
    assertTrue(e.getMessage().contains("network.zip/configuration.json"), e.getMessage());
    // The same layers at 28 px need about 300 MiB per image: within a 1 GiB budget.
    ComputationGraph wide = NetworkZip.read(HostileGraphs.wideActivationZip(dir));
    assertDoesNotThrow(
        () ->
            LayerSizes.checkActivations(
                wide.getConfiguration(), InputType.convolutional(28, 28, 3), graft, "x", 1L << 30));
    assertThrows(
        RefusedFileException.class,
        () ->
            LayerSizes.checkActivations(
                wide.getConfiguration(), InputType.convolutional(28, 28, 3), graft, "x", 1L << 28));
  }

  @Test
  void ordinaryNetworksPass() throws Exception {
    ComputationGraph g = TinyNets.classifier(28, 3, 1);
    LayerSizes.checkLayers(g.getConfiguration(), dir, "x", Limits.defaults());
    LayerSizes.checkActivations(
        g.getConfiguration(), InputType.convolutional(224, 224, 3), dir, "x", 64L << 20);
    assertDoesNotThrow(() -> ModelFile.read(HostileFiles.goodGraft(dir.resolve("good.graft"))));
  }
}
