package dev.graft.base.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.BaseSettingException;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.error.GraftException;
import dev.graft.graph.Truncation;
import dev.graft.io.RefusedFileException;
import dev.graft.io.SafetensorsWriter;
import dev.graft.io.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loading state dicts: a catalog base takes a real file with its pinned SHA-256; another
 * publisher's or architecture's file is refused naming the first unexpected tensors; a wrong shape
 * names the tensor; a graph cut early leaves the tensors it has no vertex for; pickles are refused
 * with the line that converts them.
 */
class TorchWeightsTest {
  private static final Path FIXTURES = Path.of("src/test/resources/torch");
  @TempDir Path dir;

  @Test
  void aCatalogBaseLoadsATorchvisionStyleFileWithItsPinnedDigest() throws Exception {
    Base source =
        Bases.of(Architecture.RESNET50_TORCHVISION)
            .weights(Weights.none())
            .inputSize(32)
            .seed(5)
            .load();
    // what torchvision's state_dict() holds beyond the weights: counters and the classifier
    Path file =
        StateDictExport.of(
                source.graph(), Architecture.RESNET50_TORCHVISION.stateDictMapping().orElseThrow())
            .add("bn1.num_batches_tracked", Nd4j.scalar(3f), "F32")
            .add("fc.weight", Nd4j.rand(10, 2048))
            .add("fc.bias", Nd4j.rand(10))
            .write(dir.resolve("resnet50.safetensors"));
    String sha = Sha256.of(file);
    try (Base loaded =
        Bases.of(Architecture.RESNET50_TORCHVISION)
            .weights(Weights.named(file.toString()))
            .weightsSha256(sha)
            .inputSize(32)
            .load()) {
      assertEquals("safetensors:" + sha, loaded.weightsKey());
      INDArray x = Nd4j.rand(2, 3, 32, 32);
      assertEquals(source.graph().outputSingle(x), loaded.graph().outputSingle(x));
    }
    BaseSettingException wrongPin =
        assertThrows(
            BaseSettingException.class,
            () ->
                Bases.of(Architecture.RESNET50_TORCHVISION)
                    .weights(Weights.safetensors(file))
                    .weightsSha256("0".repeat(64))
                    .inputSize(32)
                    .load());
    assertTrue(wrongPin.getMessage().contains(sha), wrongPin.getMessage());
    source.close();
  }

  @Test
  void anotherArchitecturesFileIsRefusedNamingItsFirstTensors() {
    ComputationGraph g = graph(TorchParityTest.SMALL_RESNET);
    RefusedFileException e =
        assertThrows(
            RefusedFileException.class,
            () ->
                TorchResNet.mapping(TorchParityTest.SMALL_RESNET)
                    .load(g, FIXTURES.resolve("convnext-small.safetensors")));
    assertTrue(e.getMessage().contains("unexpected tensors features.0.0.weight"), e.getMessage());
    assertTrue(e.getMessage().contains("it lacks conv1.weight"), e.getMessage());
    assertTrue(e.getMessage().contains("convnext-small.safetensors"), e.getMessage());
  }

  @Test
  void anUnknownPublishersNamesAreRefusedAndTheGraphIsLeftUnchanged() throws Exception {
    ComputationGraph g = graph(TorchParityTest.SMALL_RESNET);
    INDArray before = g.params().dup();
    StateDictMapping m = TorchResNet.mapping(TorchParityTest.SMALL_RESNET);
    // the same tensors under a prefix, as a Lightning checkpoint writes them
    SafetensorsWriter w = StateDictExport.of(g, m);
    SafetensorsWriter prefixed = new SafetensorsWriter();
    for (StateDictMapping.Target t : m.targets()) {
      prefixed.add("model." + t.name(), g.getLayer(t.vertex()).getParam(t.param()));
    }
    Path file = prefixed.write(dir.resolve("lightning.safetensors"));
    RefusedFileException e = assertThrows(RefusedFileException.class, () -> m.load(g, file));
    assertTrue(e.getMessage().contains("model.conv1.weight"), e.getMessage());
    assertEquals(before, g.params());
    // the right names with one extra tensor: refused too
    Path extra =
        w.add("layer5.0.conv1.weight", Nd4j.ones(2, 2)).write(dir.resolve("x.safetensors"));
    RefusedFileException x = assertThrows(RefusedFileException.class, () -> m.load(g, extra));
    assertTrue(x.getMessage().contains("layer5.0.conv1.weight"), x.getMessage());
  }

  @Test
  void aWrongShapeNamesTheTensorBeforeAnyDataIsRead() {
    ComputationGraph full = new ComputationGraph(TorchResNet.resnet50(32, 1));
    full.init();
    GraftException e =
        assertThrows(
            GraftException.class,
            () ->
                TorchResNet.mapping(TorchResNet.RESNET50)
                    .load(full, FIXTURES.resolve("resnet-small.safetensors")));
    // a shallower ResNet: the deeper blocks' tensors are missing, named
    assertTrue(e.getMessage().contains("it lacks layer1.1.conv1.weight"), e.getMessage());
    // same names, other widths
    ComputationGraph wide =
        graph(new TorchResNet.Shape(16, new int[] {4, 8, 8, 16}, new int[] {1, 2, 1, 1}));
    GraftException shape =
        assertThrows(
            GraftException.class,
            () ->
                TorchResNet.mapping(TorchParityTest.SMALL_RESNET)
                    .load(wide, FIXTURES.resolve("resnet-small.safetensors")));
    assertTrue(
        shape.getMessage().contains("'conv1.weight' has shape [8, 3, 7, 7]"), shape.getMessage());
  }

  @Test
  void aGraphCutEarlyLeavesTheTensorsOfTheVerticesItLacks() throws Exception {
    ComputationGraph cut =
        Truncation.newGraph(
            Truncation.truncate(
                TorchResNet.configuration(TorchParityTest.SMALL_RESNET, 32, 1), "layer2_1"),
            true);
    StateDictMapping.Result r =
        TorchResNet.mapping(TorchParityTest.SMALL_RESNET)
            .load(cut, FIXTURES.resolve("resnet-small.safetensors"));
    assertTrue(r.ignored().contains("layer4.0.conv1.weight"), r.ignored().toString());
    assertTrue(r.ignored().contains("fc.weight"), r.ignored().toString());
    assertEquals("torchvision/timm", r.publisher());
  }

  @Test
  void picklesAreRefusedWithTheLineThatConvertsThem() throws Exception {
    for (String name : new String[] {"resnet50-11ad3fa6.pth", "model.pt", "pytorch_model.bin"}) {
      GraftException e = assertThrows(GraftException.class, () -> Weights.named(name));
      assertTrue(e.getMessage().contains("save_file"), e.getMessage());
      assertTrue(e.getMessage().startsWith(name), e.getMessage());
    }
    assertThrows(GraftException.class, () -> Weights.safetensors(Path.of("x.pth")));
    assertEquals(new Weights.Safetensors(Path.of("a.safetensors")), Weights.named("a.safetensors"));
  }

  @Test
  void kerasBasesTakeNoStateDictAndTorchBasesSayWhichFileToBring() {
    BaseSettingException keras =
        assertThrows(
            BaseSettingException.class,
            () ->
                Bases.of(Architecture.MOBILENET_V2)
                    .weights(Weights.safetensors(FIXTURES.resolve("resnet-small.safetensors")))
                    .inputSize(32)
                    .load());
    assertTrue(keras.getMessage().contains("not a PyTorch state dict"), keras.getMessage());
    BaseSettingException imagenet =
        assertThrows(
            BaseSettingException.class,
            () ->
                Bases.of(Architecture.CONVNEXT_TINY).imagenet().inputSize(32).offline(true).load());
    assertTrue(imagenet.getMessage().contains("convnext_tiny.fb_in1k"), imagenet.getMessage());
    assertTrue(imagenet.getMessage().contains("--weights FILE.safetensors"), imagenet.getMessage());
    assertTrue(Files.isDirectory(FIXTURES));
  }

  private static ComputationGraph graph(TorchResNet.Shape shape) {
    ComputationGraph g = new ComputationGraph(TorchResNet.configuration(shape, 32, 1));
    g.init();
    return g;
  }
}
