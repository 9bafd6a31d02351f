package dev.graft.base.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.torch.StateDictMapping;
import dev.graft.base.vit.VisionTransformer.Spec;
import dev.graft.features.InferenceNetwork;
import dev.graft.io.RefusedFileException;
import dev.graft.io.SafetensorsFile;
import dev.graft.io.SafetensorsWriter;
import dev.graft.nn.PositionInterpolation;
import dev.graft.nn.TokenPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Graft's vision transformers compute PyTorch's features, to 1e-4 relative, from state dicts and
 * features written by {@code tools/torch_reference_vit.py} (torchvision's own {@code
 * VisionTransformer}; DINOv2 as Meta's code computes it) with fixed-seed random weights: small
 * models committed under {@code src/test/resources/vit}, at the size the position embeddings were
 * stored for and at another (interpolated as each publisher does). No Python runs here.
 *
 * <p>With {@code -Dgraft.vit.dir=DIR} the full-size models written there by {@code
 * tools/torch_reference_vit.py full DIR} are compared instead; see docs/bases.md.
 */
class VitParityTest {
  static final double TOLERANCE = 1e-4;

  /** torchvision's VisionTransformer(32, 8, 2 layers, 3 heads, 48 wide, MLP 96). */
  static final Spec SMALL_VIT =
      new Spec(
          8,
          48,
          2,
          3,
          96,
          0,
          0,
          4,
          PositionInterpolation.TORCHVISION,
          1e-6,
          TokenPool.Mode.CLASS_TOKEN,
          0);

  /** DinoVisionTransformer(35 px, 7 px patches, 32 wide, 2 blocks, 4 heads, layer scale). */
  static final Spec SMALL_DINOV2 =
      new Spec(
          7,
          32,
          2,
          4,
          128,
          1.0,
          0,
          5,
          PositionInterpolation.DINOV2,
          1e-6,
          TokenPool.Mode.CLASS_TOKEN,
          0);

  /**
   * One comparison: weights file stem, io file stem, shape, input size and the io tensor to match.
   */
  record Case(String weights, String io, Spec spec, int size, String expected) {
    @Override
    public String toString() {
      return io + ":" + expected;
    }
  }

  static Stream<Case> cases() {
    String full = System.getProperty("graft.vit.dir");
    if (full != null) {
      return Stream.of(
          new Case("vit-b16", "vit-b16", Spec.VIT_B16, 224, "features"),
          new Case("dinov2-vits14", "dinov2-vits14", Spec.DINOV2_S14, 224, "features"),
          new Case("dinov2-vitb14", "dinov2-vitb14", Spec.DINOV2_B14, 224, "features"));
    }
    Spec reg = SMALL_DINOV2.withRegisters(2);
    return Stream.of(
        new Case("vit", "vit-32", SMALL_VIT, 32, "features"),
        new Case("vit", "vit-48", SMALL_VIT, 48, "features"),
        new Case("dinov2", "dinov2-35", SMALL_DINOV2, 35, "features"),
        new Case("dinov2", "dinov2-28", SMALL_DINOV2, 28, "features"),
        new Case("dinov2", "dinov2-28", SMALL_DINOV2, 28, "clsmean"),
        new Case(
            "dinov2",
            "dinov2-35",
            SMALL_DINOV2.withPool(TokenPool.Mode.CLASS_AND_MEAN_PATCH),
            35,
            "clsmean"),
        new Case("dinov2_reg", "dinov2_reg-35", reg, 35, "features"),
        new Case("dinov2_reg", "dinov2_reg-28", reg, 28, "clsmean"),
        // the same models under Hugging Face transformers' names (query, key, value apart)
        new Case("dinov2_hf", "dinov2-28", SMALL_DINOV2, 28, "features"),
        new Case("dinov2_reg_hf", "dinov2_reg-35", reg, 35, "clsmean"));
  }

  static Path dir() {
    String full = System.getProperty("graft.vit.dir");
    return full != null ? Path.of(full) : Path.of("src/test/resources/vit");
  }

  @ParameterizedTest
  @MethodSource("cases")
  void featuresMatchPyTorchOnTheGraphAndTheInferencePath(Case c) throws Exception {
    Path weights = dir().resolve(c.weights() + ".safetensors");
    Assumptions.assumeTrue(Files.isRegularFile(weights), "no " + weights);
    INDArray input;
    INDArray expected;
    try (SafetensorsFile io = SafetensorsFile.open(dir().resolve(c.io() + ".io.safetensors"))) {
      input = io.read("input");
      expected = io.read(c.expected());
    }
    ComputationGraph g =
        new ComputationGraph(VisionTransformer.configuration("input_1", c.spec(), c.size(), 1));
    g.init();
    StateDictMapping.Result r = VitStateDict.mapping("test", c.spec()).load(g, weights);
    assertEquals(
        c.weights().startsWith("vit")
            ? "torchvision"
            : c.weights().endsWith("_hf") ? "Hugging Face transformers" : "timm/Meta",
        r.publisher());
    // the class token at pool (or what the spec pools), class token + mean patch at pool_cls_mean
    String vertex =
        c.expected().equals("clsmean") && c.spec().pool() == TokenPool.Mode.CLASS_TOKEN
            ? VisionTransformer.POOL_CLS_MEAN
            : VisionTransformer.POOL;
    assertClose(expected, g.feedForward(input, false).get(vertex), c + " (graph)");
    try (InferenceNetwork fast = InferenceNetwork.of(g, List.of(), List.of(vertex))) {
      assertClose(expected, fast.output(input)[0], c + " (inference path)");
    }
  }

  /** The DINOv2 fixture's tensors, from {@code file}, renamed by {@code rename} (null: dropped). */
  private static Path rewritten(
      String file, java.util.function.UnaryOperator<String> rename, Path to) throws Exception {
    SafetensorsWriter w = new SafetensorsWriter();
    // always the committed fixture: -Dgraft.vit.dir holds only the full-size files
    try (SafetensorsFile f =
        SafetensorsFile.open(Path.of("src/test/resources/vit").resolve(file))) {
      for (String n : f.names()) {
        String m = rename.apply(n);
        if (m != null) {
          w.add(m, f.read(n));
        }
      }
    }
    return w.write(to);
  }

  @Test
  void anotherPublishersFileIsRefusedNamingTheFirstNamesNotExpected(@TempDir Path tmp)
      throws Exception {
    ComputationGraph g =
        new ComputationGraph(VisionTransformer.configuration("input_1", SMALL_DINOV2, 35, 1));
    g.init();
    INDArray before = g.params().dup();
    StateDictMapping m = VitStateDict.mapping("dinov2-test", SMALL_DINOV2);
    // Hugging Face's names under a prefix no publisher writes
    Path prefixed = rewritten("dinov2_hf.safetensors", n -> "backbone." + n, tmp.resolve("p.st"));
    RefusedFileException e = assertThrows(RefusedFileException.class, () -> m.load(g, prefixed));
    assertTrue(e.getMessage().contains("unexpected tensors backbone."), e.getMessage());
    // Meta's names with Hugging Face's query/key/value beside the fused qkv: two forms, refused
    Path both = tmp.resolve("both.st");
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile meta = SafetensorsFile.open(dir().resolve("dinov2.safetensors"));
        SafetensorsFile hf = SafetensorsFile.open(dir().resolve("dinov2_hf.safetensors"))) {
      for (String n : meta.names()) {
        w.add(n, meta.read(n));
      }
      for (String p : new String[] {"query", "key", "value"}) {
        for (String k : new String[] {"weight", "bias"}) {
          w.add(
              "blocks.0.attn." + p.charAt(0) + "." + k,
              hf.read("encoder.layer.0.attention.attention." + p + "." + k));
        }
      }
    }
    w.write(both);
    RefusedFileException twice = assertThrows(RefusedFileException.class, () -> m.load(g, both));
    assertTrue(twice.getMessage().contains("second time"), twice.getMessage());
    assertEquals(before, g.params(), "a refused file leaves the graph unchanged");
  }

  static void assertClose(INDArray expected, INDArray actual, String what) {
    assertEquals(
        List.of(expected.shape()[0], expected.shape()[1]),
        List.of(actual.shape()[0], actual.shape()[1]),
        what);
    double scale = expected.norm2Number().doubleValue();
    double diff = expected.sub(actual.castTo(expected.dataType())).norm2Number().doubleValue();
    assertTrue(diff <= TOLERANCE * scale, what + ": relative difference " + diff / scale);
  }
}
