package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.base.torch.StateDictExport;
import dev.graft.testing.Digits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code graft featurize --base convnext-tiny --weights FILE.safetensors}, and the refusals of a
 * pickle and of another architecture's state dict (exit 2, one line naming the file).
 */
class TorchBasesCliTest {
  @TempDir Path dir;

  private Cli.Result featurize(String base, String weights, Path data) {
    return Cli.run(
        "featurize",
        "--base",
        base,
        "--weights",
        weights,
        "--image-size",
        "32",
        "--data",
        data.toString(),
        "--out",
        dir.resolve("features").toString());
  }

  @Test
  void featurizesWithATorchvisionStyleStateDict() throws Exception {
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 2);
    Path file;
    try (Base b =
        Bases.of(Architecture.CONVNEXT_TINY).weights(Weights.none()).inputSize(32).seed(4).load()) {
      file =
          StateDictExport.of(b.graph(), Architecture.CONVNEXT_TINY.stateDictMapping().orElseThrow())
              .write(dir.resolve("convnext_tiny.safetensors"));
    }
    Cli.Result r = featurize("convnext-tiny", file.toString(), data);
    assertEquals(0, r.code(), r.toString());
    byte[] npy = Files.readAllBytes(dir.resolve("features").resolve("features.npy"));
    int headerLen = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    String header = new String(npy, 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(header.contains("'shape': (4, 768)"), header);
  }

  @Test
  void aPickleIsExitTwoWithTheConversionLine() throws Exception {
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 1);
    Path pth = Files.write(dir.resolve("resnet50-11ad3fa6.pth"), new byte[] {(byte) 0x80, 2});
    Cli.Result r = featurize("resnet50-torchvision", pth.toString(), data);
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--weights"), r.toString());
    assertTrue(r.err().contains("save_file"), r.toString());
  }

  @Test
  void anotherArchitecturesStateDictIsExitTwoNamingTheFile() throws Exception {
    Path data = Digits.data().extract(dir.resolve("data"), List.of(1, 7), 0, 1);
    Path small = Path.of("src/test/resources/torch/convnext-small.safetensors").toAbsolutePath();
    Cli.Result r = featurize("resnet50-torchvision", small.toString(), data);
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("convnext-small.safetensors"), r.toString());
    assertTrue(r.err().contains("features.0.0.weight"), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.toString());
  }
}
