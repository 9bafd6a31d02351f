package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.graph.Topology;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.deeplearning4j.zoo.ZooModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One table-driven test over the whole catalog: every entry builds, runs and is what Keras says.
 */
class ArchitectureTest {
  /**
   * Keras {@code keras.applications.*(include_top=False).count_params()}; for the PyTorch bases,
   * the floats of torchvision's state dict (BatchNorm statistics included) less the classifier.
   */
  private static final Map<Architecture, Long> KERAS_NOTOP_PARAMS =
      Map.of(
          Architecture.VGG16, 14_714_688L,
          Architecture.RESNET50, 23_587_712L,
          Architecture.INCEPTION_V3, 21_802_784L,
          Architecture.MOBILENET_V2, 2_257_984L,
          Architecture.EFFICIENTNET_B0, 4_049_571L,
          Architecture.RESNET50_TORCHVISION, 23_561_152L,
          Architecture.CONVNEXT_TINY, 27_820_128L,
          // torchvision's vit_b_16 state dict less heads.*; DINOv2 ViT-S/14 from Meta's model code:
          // patch 226,176 + class token 384 + positions (1 + 37 x 37) x 384 + 12 blocks x
          // 1,775,232 + final norm 768 (the mask token, unused for features, is not kept)
          Architecture.VIT_B16, 85_798_656L,
          Architecture.DINOV2_VITS14, 22_056_192L);

  /**
   * Parameters DL4J holds beyond Keras's count: InceptionV3's BatchNorms have no scale in Keras
   * ({@code scale=False}) while DL4J keeps a gamma per channel, fixed at 1. EfficientNetB0's Keras
   * model counts its input {@code Normalization} (3 means, 3 variances, a count), which Graft
   * applies as preprocessing.
   */
  private static final Map<Architecture, Long> DL4J_EXTRA_PARAMS =
      Map.of(
          Architecture.INCEPTION_V3,
          dev.graft.base.inception.InceptionV3.FIXED_GAMMA_COUNT,
          Architecture.EFFICIENTNET_B0,
          -7L);

  /** Channels of the feature layer. */
  private static final Map<Architecture, Integer> FEATURE_CHANNELS =
      Map.ofEntries(
          Map.entry(Architecture.VGG16, 512),
          Map.entry(Architecture.RESNET50, 2048),
          Map.entry(Architecture.INCEPTION_V3, 2048),
          Map.entry(Architecture.MOBILENET_V2, 1280),
          Map.entry(Architecture.EFFICIENTNET_B0, 1280),
          Map.entry(Architecture.RESNET50_TORCHVISION, 2048),
          Map.entry(Architecture.CONVNEXT_TINY, 768),
          Map.entry(Architecture.VIT_B16, 768),
          Map.entry(Architecture.DINOV2_VITS14, 384),
          Map.entry(Architecture.DINOV2_VITB14, 768),
          Map.entry(Architecture.DINOV2_VITS14_REG, 384),
          Map.entry(Architecture.DINOV2_VITB14_REG, 768));

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void buildsAtItsMinimumSizeAndMatchesKeras(Architecture a) throws Exception {
    Base base = Bases.of(a).weights(Weights.none()).inputSize(a.minInputSize()).seed(1).load();
    ComputationGraph g = base.graph();

    assertEquals(a.id(), base.id());
    assertEquals(a.featureLayer(), base.featureLayer());
    assertEquals(List.of(a.featureLayer()), g.getConfiguration().getNetworkOutputs());
    assertEquals(a.cutPoints().get(0), a.featureLayer());
    assertEquals(a.preprocessing(), base.preprocessing());
    assertEquals("none:seed=1", base.weightsKey());

    INDArray out = g.outputSingle(Nd4j.rand(2, 3, a.minInputSize(), a.minInputSize()));
    long[] shape = out.shape();
    // a convolutional base's feature map [N, C, h, w]; a transformer's class token [N, F]
    boolean transformer = a.id().startsWith("vit") || a.id().startsWith("dinov2");
    assertEquals(
        transformer ? 2 : 4,
        shape.length,
        "feature layer output " + java.util.Arrays.toString(shape));
    assertEquals(2, shape[0]);
    assertEquals((long) FEATURE_CHANNELS.get(a), shape[1]);
    assertTrue(transformer || shape[2] >= 1 && shape[3] >= 1);
    assertFalse(Double.isNaN(out.sumNumber().doubleValue()));

    if (KERAS_NOTOP_PARAMS.containsKey(a)) {
      // the other transformer entries differ from these only in width or register tokens, whose
      // tensors VitParityTest checks name by name against the publisher's state dict
      assertEquals(
          KERAS_NOTOP_PARAMS.get(a) + DL4J_EXTRA_PARAMS.getOrDefault(a, 0L),
          g.numParams(),
          a + " parameters");
    }

    // Blocks: ordered, disjoint, covering every vertex of the graph, the feature layer last.
    List<Block> blocks = base.blocks();
    assertTrue(blocks.size() >= 5, "blocks " + blocks);
    List<String> all = new ArrayList<>();
    blocks.forEach(b -> all.addAll(b.layers()));
    Set<String> unique = new HashSet<>(all);
    assertEquals(all.size(), unique.size(), "a vertex in two blocks");
    assertEquals(new HashSet<>(Topology.runtimeOrder(g)), unique);
    assertEquals(a.featureLayer(), blocks.get(blocks.size() - 1).lastLayer());
    assertEquals(blocks, a.blocks());
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void refusesInputsBelowItsMinimum(Architecture a) {
    GraftException e =
        assertThrows(GraftException.class, () -> Bases.of(a).inputSize(a.minInputSize() - 1));
    assertTrue(e.getMessage().contains(String.valueOf(a.minInputSize() - 1)), e.getMessage());
    assertTrue(e.getMessage().contains(a.id()), e.getMessage());
  }

  @Test
  void imagenetFilesAreTheZooFiles() {
    assertZooFile(Architecture.VGG16, org.deeplearning4j.zoo.model.VGG16.builder().build());
    assertZooFile(Architecture.RESNET50, org.deeplearning4j.zoo.model.ResNet50.builder().build());
  }

  private static void assertZooFile(Architecture a, ZooModel<?> zoo) {
    assertTrue(
        zoo.pretrainedUrl(PretrainedType.IMAGENET).endsWith("/" + a.imagenetFile().path()),
        zoo.pretrainedUrl(PretrainedType.IMAGENET));
    assertEquals(zoo.pretrainedChecksum(PretrainedType.IMAGENET), a.imagenetFile().adler32());
  }

  @Test
  void namesAreCaseAndDashInsensitive() {
    assertEquals(Architecture.INCEPTION_V3, Architecture.named("Inception-V3"));
    assertEquals(Architecture.RESNET50, Architecture.named("resnet50"));
    GraftException e = assertThrows(GraftException.class, () -> Architecture.named("vgg19"));
    assertTrue(e.getMessage().contains("'vgg19'"), e.getMessage());
  }

  @Test
  void resnet50EndsInGlobalAveragePoolingOver2048Channels() {
    var conf = Architecture.RESNET50.configuration(64, 3, false);
    assertEquals(List.of("avg_pool"), conf.getNetworkOutputs());
    var pool =
        ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get("avg_pool"))
            .getLayerConf()
            .getLayer();
    assertEquals(
        org.deeplearning4j.nn.conf.layers.PoolingType.AVG,
        ((org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer) pool).getPoolingType());
    var types =
        conf.getLayerActivationTypes(
            org.deeplearning4j.nn.conf.inputs.InputType.convolutional(64, 64, 3));
    assertEquals(
        org.deeplearning4j.nn.conf.inputs.InputType.feedForward(2048), types.get("avg_pool"));
    // Keras geometry: 64 px -> 2x2 at res5c (the zoo's stride-2 stage 2 would give 1x1).
    assertEquals(
        org.deeplearning4j.nn.conf.inputs.InputType.convolutional(2, 2, 2048),
        types.get("res5c_branch"));
  }

  @Test
  void resnet50HasTheZooLayoutForZooWeightsAndKerassForKerasWeights() {
    var input = org.deeplearning4j.nn.conf.inputs.InputType.convolutional(224, 224, 3);
    var zoo = Architecture.RESNET50.configuration(224, 1, false, false);
    var keras = Architecture.RESNET50.configuration(224, 1, false, true);
    assertTrue(!zoo.getVertices().containsKey("pool1_pad"));
    // Keras: conv1 112x112, pool1_pad 114x114, pool1_pool 56x56; the zoo pools 112 to 55
    assertEquals(
        org.deeplearning4j.nn.conf.inputs.InputType.convolutional(55, 55, 64),
        zoo.getLayerActivationTypes(input).get("stem-maxpool1"));
    var types = keras.getLayerActivationTypes(input);
    assertEquals(
        org.deeplearning4j.nn.conf.inputs.InputType.convolutional(114, 114, 64),
        types.get("pool1_pad"));
    assertEquals(
        org.deeplearning4j.nn.conf.inputs.InputType.convolutional(56, 56, 64),
        types.get("stem-maxpool1"));
    assertEquals(
        org.deeplearning4j.nn.conf.inputs.InputType.convolutional(7, 7, 2048),
        types.get("res5c_branch"));
    // the other bases have one layout
    assertEquals(
        Architecture.MOBILENET_V2.configuration(64, 1, false, false),
        Architecture.MOBILENET_V2.configuration(64, 1, false, true));
  }

  @Test
  void inceptionBlocksAgreeWithTheKerasBuilder() {
    var declared = dev.graft.base.inception.InceptionV3.blocks();
    List<Block> blocks = Architecture.INCEPTION_V3.blocks();
    assertEquals(List.copyOf(declared.keySet()), blocks.stream().map(Block::name).toList());
    for (Block b : blocks) {
      assertEquals(new HashSet<>(declared.get(b.name())), new HashSet<>(b.layers()), b.name());
    }
  }
}
