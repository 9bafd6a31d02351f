package dev.graft.base.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.inception.InceptionV3;
import dev.graft.error.GraftException;
import dev.graft.io.RefusedFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Keras weight files written from Graft graphs with random weights, read back into fresh graphs,
 * and checked value by value against convolutions and batch normalisations computed in plain Java
 * from the file (read with DL4J's own {@link Hdf5Archive}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KerasWeightsTest {

  private Path dir;

  private ComputationGraph source;
  private Path inceptionH5;
  private INDArray input;
  private INDArray sourceOutput;
  private INDArray freshBeforeLoad;
  private ComputationGraph fresh;

  @BeforeAll
  void writeInceptionFile(@TempDir Path tmp) throws IOException {
    dir = tmp;
    Nd4j.getRandom().setSeed(7);
    source = InceptionV3.build(InceptionV3.MIN_INPUT_SIZE, 1);
    randomiseBatchNorm(source);
    inceptionH5 = dir.resolve("inception_v3_random_notop.h5");
    KerasWeightsWriter.save(source, inceptionH5);
    input = Nd4j.rand(DataType.FLOAT, 1, 3, 75, 75).muli(2).subi(1);
    sourceOutput = source.outputSingle(input);
    fresh = InceptionV3.build(InceptionV3.MIN_INPUT_SIZE, 99);
    freshBeforeLoad = fresh.outputSingle(input);
    KerasWeights.load(fresh, inceptionH5);
  }

  /** Moving statistics and beta away from their initial values, gamma left at 1 (scale=False). */
  static void randomiseBatchNorm(ComputationGraph g) {
    for (Layer l : g.getLayers()) {
      if (l.conf().getLayer() instanceof BatchNormalization bn) {
        l.getParam("beta").assign(Nd4j.randn(DataType.FLOAT, l.getParam("beta").shape()).muli(0.1));
        l.getParam("mean").assign(Nd4j.randn(DataType.FLOAT, l.getParam("mean").shape()).muli(0.1));
        String var = bn.isUseLogStd() ? "log10stdev" : "var";
        INDArray v = Nd4j.rand(DataType.FLOAT, l.getParam(var).shape()).addi(0.5);
        l.getParam(var)
            .assign(
                bn.isUseLogStd()
                    ? org.nd4j.linalg.ops.transforms.Transforms.log(v, 10).muli(0.5)
                    : v);
      }
    }
  }

  @Test
  void inceptionRoundTripGivesIdenticalOutputs() {
    assertNotEquals(sourceOutput, freshBeforeLoad, "different seeds must differ before loading");
    assertEquals(source.params(), fresh.params());
    assertEquals(sourceOutput, fresh.outputSingle(input));
  }

  @Test
  void fileHasKerasStructure() throws IOException {
    try (H5 h5 = H5.openRead(inceptionH5)) {
      List<String> names = h5.stringList("", "layer_names");
      assertEquals(311, names.size()); // input_1 + 310 layers, as Keras's model.layers
      assertEquals("input_1", names.get(0));
      assertEquals("mixed10", names.get(names.size() - 1));
      assertTrue(
          names.containsAll(
              List.of("conv2d_94", "batch_normalization_94", "mixed9_0", "concatenate_2")));
      assertEquals("tensorflow", h5.rootString("backend"));
      assertEquals(KerasWeights.KERAS_VERSION, h5.rootString("keras_version"));
      assertEquals(List.of("conv2d_1/kernel:0"), h5.stringList("conv2d_1", "weight_names"));
      assertEquals(
          List.of(
              "batch_normalization_1/beta:0",
              "batch_normalization_1/moving_mean:0",
              "batch_normalization_1/moving_variance:0"),
          h5.stringList("batch_normalization_1", "weight_names"));
      assertEquals(List.of(), h5.stringList("mixed0", "weight_names"));
      assertEquals(List.of(), h5.stringList("input_1", "weight_names"));
    }
    Hdf5Archive archive = new Hdf5Archive(inceptionH5.toString());
    try {
      assertEquals(List.of("kernel:0"), archive.getDataSets("conv2d_1", "conv2d_1"));
      assertArrayEquals(
          new long[] {3, 3, 3, 32}, reference(archive, "conv2d_1", "kernel:0").shape());
      assertArrayEquals(
          new long[] {1, 7, 128, 128}, reference(archive, "conv2d_33", "kernel:0").shape());
      assertArrayEquals(
          new long[] {384}, reference(archive, "batch_normalization_80", "beta:0").shape());
    } finally {
      archive.close();
    }
    assertEquals(188, KerasWeights.layersWithWeights(inceptionH5).size()); // 94 conv + 94 BN
  }

  /** The first convolution, its batch normalisation and ReLU computed by hand from the file. */
  @Test
  void convolutionAndBatchNormMatchPlainJavaFromTheFile() {
    INDArray x = input;
    Map<String, INDArray> acts = fresh.feedForward(x, false);
    INDArray conv = acts.get("conv2d_1");
    // the ReLU after it works in place on the map's copy, so run the layer on its own
    INDArray bn =
        fresh
            .getLayer("batch_normalization_1")
            .activate(
                conv.dup(),
                false,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
    INDArray relu = acts.get("activation_1");
    INDArray conv33 = acts.get("conv2d_33");
    INDArray in33 = acts.get("activation_32");

    Hdf5Archive archive = new Hdf5Archive(inceptionH5.toString());
    INDArray k;
    INDArray beta;
    INDArray mean;
    INDArray var;
    INDArray k33;
    try {
      k = reference(archive, "conv2d_1", "kernel:0"); // [kh, kw, in, out]
      beta = reference(archive, "batch_normalization_1", "beta:0");
      mean = reference(archive, "batch_normalization_1", "moving_mean:0");
      var = reference(archive, "batch_normalization_1", "moving_variance:0");
      k33 = reference(archive, "conv2d_33", "kernel:0"); // [1, 7, 128, 128]
    } finally {
      archive.close();
    }

    // conv2d_1: 3x3, stride 2, 'valid', no bias: 75 -> 37
    assertArrayEquals(new long[] {1, 32, 37, 37}, conv.shape());
    float[] in = x.dup('c').data().asFloat(); // [1, 3, 75, 75]
    float[] kernel = k.dup('c').data().asFloat(); // [3, 3, 3, 32]
    float[] convOut = conv.dup('c').data().asFloat();
    float[] bnOut = bn.dup('c').data().asFloat();
    float[] reluOut = relu.dup('c').data().asFloat();
    double worst = 0;
    for (int o = 0; o < 32; o++) {
      for (int oy = 0; oy < 37; oy++) {
        for (int ox = 0; ox < 37; ox++) {
          double s = 0;
          for (int ky = 0; ky < 3; ky++) {
            for (int kx = 0; kx < 3; kx++) {
              for (int c = 0; c < 3; c++) {
                s +=
                    in[(c * 75 + 2 * oy + ky) * 75 + 2 * ox + kx]
                        * kernel[((ky * 3 + kx) * 3 + c) * 32 + o];
              }
            }
          }
          int at = (o * 37 + oy) * 37 + ox;
          worst = Math.max(worst, Math.abs(s - convOut[at]));
          // batch_normalization_1: scale=False, epsilon 1e-3; then the ReLU
          double norm =
              (s - mean.getDouble(o)) / Math.sqrt(var.getDouble(o) + 1e-3) + beta.getDouble(o);
          worst = Math.max(worst, Math.abs(norm - bnOut[at]));
          worst = Math.max(worst, Math.abs(Math.max(0, norm) - reluOut[at]));
        }
      }
    }
    assertTrue(worst < 1e-4, "largest difference " + worst);

    // conv2d_33: 1x7, 'same', over activation_32 (3x3 at 75 px): checks kh/kw are not swapped
    long h = in33.size(2);
    long w = in33.size(3);
    worst = 0;
    for (int o = 0; o < 128; o += 5) {
      for (int oy = 0; oy < h; oy++) {
        for (int ox = 0; ox < w; ox++) {
          double s = 0;
          for (int kx = 0; kx < 7; kx++) {
            int ix = ox + kx - 3;
            if (ix < 0 || ix >= w) {
              continue;
            }
            for (int c = 0; c < 128; c++) {
              s += in33.getDouble(0, c, oy, ix) * k33.getDouble(0, kx, c, o);
            }
          }
          worst = Math.max(worst, Math.abs(s - conv33.getDouble(0, o, oy, ox)));
        }
      }
    }
    assertTrue(worst < 1e-4, "largest difference " + worst);
  }

  /** conv → flatten → dense, on a non-square map: Keras's (h, w, c) rows vs DL4J's (c, h, w). */
  @Test
  void denseAfterFlattenReordersRowsAsKeras() throws IOException {
    ComputationGraph a = convDense(1, 6);
    Path h5 = dir.resolve("dense.h5");
    KerasWeightsWriter.save(a, h5);
    ComputationGraph b = convDense(2, 6);
    KerasWeights.load(b, h5);
    INDArray x = Nd4j.rand(DataType.FLOAT, 3, 3, 4, 5);
    assertEquals(a.outputSingle(x), b.outputSingle(x));

    Hdf5Archive archive = new Hdf5Archive(h5.toString());
    INDArray kernel;
    INDArray bias;
    try {
      kernel = reference(archive, "fc", "kernel:0");
      bias = reference(archive, "fc", "bias:0");
    } finally {
      archive.close();
    }
    assertArrayEquals(new long[] {3 * 4 * 6, 7}, kernel.shape());
    INDArray act = b.feedForward(x, false).get("conv"); // [3, 6, 3, 4]
    INDArray out = b.outputSingle(x);
    int hh = 3;
    int ww = 4;
    int cc = 6;
    for (int n = 0; n < 3; n++) {
      for (int j = 0; j < 7; j++) {
        double s = bias.getDouble(j);
        for (int y = 0; y < hh; y++) {
          for (int xx = 0; xx < ww; xx++) {
            for (int c = 0; c < cc; c++) {
              s += act.getDouble(n, c, y, xx) * kernel.getDouble((y * ww + xx) * cc + c, j);
            }
          }
        }
        assertEquals(s, out.getDouble(n, j), 1e-4);
      }
    }
  }

  private static ComputationGraph convDense(long seed, int channels) {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(seed)
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("input_1")
                .setInputTypes(InputType.convolutional(4, 5, 3))
                .addLayer(
                    "conv",
                    new ConvolutionLayer.Builder(2, 2)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .nOut(channels)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "input_1")
                .addLayer(
                    "fc",
                    new DenseLayer.Builder().nOut(7).activation(Activation.IDENTITY).build(),
                    "conv")
                .setOutputs("fc")
                .build());
    g.init();
    g.getLayer("fc").getParam("b").assign(Nd4j.randn(DataType.FLOAT, 1, 7));
    g.getLayer("conv").getParam("b").assign(Nd4j.randn(DataType.FLOAT, 1, channels));
    return g;
  }

  /**
   * DL4J's default batch normalisation (log10 std, epsilon 1e-5) under the zoo's ResNet stem names:
   * written with Keras's names and epsilon, read back with the epsilon set to Keras's.
   */
  @Test
  void logStdBatchNormAndEpsilonFollowKeras() throws IOException {
    ComputationGraph a = stem(3);
    randomiseBatchNorm(a);
    Path h5 = dir.resolve("stem.h5");
    KerasWeightsWriter.save(a, h5);
    try (H5 file = H5.openRead(h5)) {
      List<String> names = file.stringList("", "layer_names");
      assertEquals(List.of("input_1", "conv1", "bn_conv1"), names);
      assertEquals(4, file.stringList("bn_conv1", "weight_names").size()); // gamma moved: written
    }
    ComputationGraph b = stem(4);
    KerasWeights.load(b, h5);
    BatchNormalization conf = (BatchNormalization) b.getLayer("stem-batch1").conf().getLayer();
    assertEquals(1e-3, conf.getEps());
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 8, 8);
    INDArray want = a.outputSingle(x);
    INDArray got = b.outputSingle(x);
    assertTrue(want.equalsWithEps(got, 1e-4), "max diff " + want.sub(got).amaxNumber());

    Hdf5Archive archive = new Hdf5Archive(h5.toString());
    try {
      INDArray conv = b.feedForward(x, false).get("stem-cnn1");
      INDArray g = reference(archive, "bn_conv1", "gamma:0");
      INDArray be = reference(archive, "bn_conv1", "beta:0");
      INDArray m = reference(archive, "bn_conv1", "moving_mean:0");
      INDArray v = reference(archive, "bn_conv1", "moving_variance:0");
      for (int c = 0; c < 4; c++) {
        double byHand =
            (conv.getDouble(1, c, 2, 3) - m.getDouble(c))
                    / Math.sqrt(v.getDouble(c) + 1e-3)
                    * g.getDouble(c)
                + be.getDouble(c);
        assertEquals(byHand, got.getDouble(1, c, 2, 3), 1e-4);
      }
    } finally {
      archive.close();
    }
  }

  private static ComputationGraph stem(long seed) {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(seed)
                .graphBuilder()
                .addInputs("input_1")
                .setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer(
                    "stem-cnn1",
                    new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .activation(Activation.IDENTITY)
                        .build(),
                    "input_1")
                .addLayer("stem-batch1", new BatchNormalization.Builder().build(), "stem-cnn1")
                .setOutputs("stem-batch1")
                .build());
    g.init();
    g.getLayer("stem-batch1").getParam("gamma").assign(Nd4j.rand(DataType.FLOAT, 1, 4).addi(0.5));
    return g;
  }

  @Test
  void topLayersOfTheFileAreSkippedOnlyWhenAllowed() throws IOException {
    ComputationGraph withTop =
        new TransferLearning.GraphBuilder(convDense(5, 6))
            .addLayer(
                "predictions",
                new DenseLayer.Builder().nIn(7).nOut(3).activation(Activation.SOFTMAX).build(),
                "fc")
            .setOutputs("predictions")
            .build();
    Path h5 = dir.resolve("with_top.h5");
    KerasWeightsWriter.save(withTop, h5);
    ComputationGraph notop = convDense(6, 6);
    GraftException e =
        assertThrows(
            GraftException.class, () -> KerasWeights.load(notop, h5, KerasWeights.Match.EXACT));
    assertTrue(e.getMessage().contains("'predictions'"), e.getMessage());
    KerasWeights.load(notop, h5); // IGNORE_TOP
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 5);
    assertEquals(withTop.feedForward(x, false).get("fc"), notop.outputSingle(x));

    // the other way round: the graph's top has no weights in a file without one
    Path notopH5 = dir.resolve("notop.h5");
    KerasWeightsWriter.save(notop, notopH5);
    ComputationGraph topGraph = withTop.clone();
    GraftException missing =
        assertThrows(GraftException.class, () -> KerasWeights.load(topGraph, notopH5));
    assertTrue(missing.getMessage().contains("'predictions' has no weights"), missing.getMessage());
  }

  @Test
  void fileOfAnotherArchitectureFailsNamingTheLayer() throws IOException {
    Path h5 = dir.resolve("dense_other.h5");
    KerasWeightsWriter.save(convDense(1, 6), h5);
    INDArray before = fresh.params().dup();
    GraftException e = assertThrows(GraftException.class, () -> KerasWeights.load(fresh, h5));
    assertTrue(e.getMessage().contains("'conv2d_1' has no weights in the file"), e.getMessage());
    assertTrue(e.getMessage().contains(h5.toString()), e.getMessage());
    assertEquals(before, fresh.params(), "a failed load leaves the graph unchanged");

    GraftException e2 =
        assertThrows(GraftException.class, () -> KerasWeights.load(convDense(1, 6), inceptionH5));
    assertTrue(e2.getMessage().contains("'conv'"), e2.getMessage());
  }

  @Test
  void shapeMismatchNamesLayerAndShapes() throws IOException {
    Path h5 = dir.resolve("dense6.h5");
    KerasWeightsWriter.save(convDense(1, 6), h5);
    ComputationGraph eight = convDense(1, 8);
    GraftException e = assertThrows(GraftException.class, () -> KerasWeights.load(eight, h5));
    assertTrue(e.getMessage().contains("'conv'"), e.getMessage());
    assertTrue(
        e.getMessage().contains("[2, 2, 3, 6]") && e.getMessage().contains("[2, 2, 3, 8]"),
        e.getMessage());
  }

  @Test
  void truncatedOrForeignFilesAreRefused() throws IOException {
    byte[] bytes = Files.readAllBytes(inceptionH5);
    Path truncated = dir.resolve("truncated.h5");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    ComputationGraph g = convDense(1, 6);
    // refused in Java, before the native HDF5 library parses them (Hdf5Check)
    RefusedFileException e =
        assertThrows(RefusedFileException.class, () -> KerasWeights.load(g, truncated));
    assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());

    Path text = dir.resolve("notes.h5");
    Files.writeString(text, "not HDF5 at all");
    RefusedFileException e2 =
        assertThrows(RefusedFileException.class, () -> KerasWeights.load(g, text));
    assertTrue(e2.getMessage().contains("HDF5"), e2.getMessage());

    assertThrows(NoSuchFileException.class, () -> KerasWeights.load(g, dir.resolve("absent.h5")));
    assertFalse(Files.list(dir).anyMatch(p -> p.toString().endsWith(".part")), "no temporary left");
  }

  @Test
  void weightNamesOfKeras1And2() {
    assertEquals("kernel", KerasWeights.role("conv2d_1/kernel:0"));
    assertEquals("moving_variance", KerasWeights.role("batch_normalization_3/moving_variance:0"));
    assertEquals("kernel", KerasWeights.role("convolution2d_1_W"));
    assertEquals("bias", KerasWeights.role("dense_2_b"));
    assertEquals("moving_mean", KerasWeights.role("batchnormalization_1_running_mean"));
    assertEquals("moving_variance", KerasWeights.role("batchnormalization_1_running_std"));
    assertEquals("gamma", KerasWeights.role("bn_conv1_gamma"));
    assertEquals("depthwise_kernel", KerasWeights.role("conv_dw_1/depthwise_kernel:0"));
    assertEquals("mean", KerasWeights.role("normalization/mean:0"));
    assertEquals("count", KerasWeights.role("normalization/count:0"));
    assertEquals(null, KerasWeights.role("sep_conv/pointwise_kernel:0"));
  }

  @Test
  void tfKerasResNetNamesMapOntoGraftNames() {
    assertEquals(
        List.of("conv2_block1_0_conv", "res2a_branch1"),
        KerasNames.graphCandidates("conv2_block1_0_conv"));
    assertEquals(
        List.of("conv5_block3_2_bn", "bn5c_branch2b"),
        KerasNames.graphCandidates("conv5_block3_2_bn"));
    assertEquals(
        List.of("conv4_block6_3_conv", "res4f_branch2c"),
        KerasNames.graphCandidates("conv4_block6_3_conv"));
    assertEquals(
        List.of("conv1_bn", "bn_conv1", "stem-batch1"), KerasNames.graphCandidates("conv1_bn"));
    assertEquals(List.of("conv1", "stem-cnn1"), KerasNames.graphCandidates("conv1"));
    assertEquals(1.001e-5, KerasNames.epsilon("conv3_block2_1_bn"));
    assertEquals(1e-3, KerasNames.epsilon("bn3b_branch2a"));
    assertEquals(1e-3, KerasNames.epsilon("batch_normalization_7"));
    assertEquals("conv1", KerasNames.kerasName("stem-cnn1"));
  }

  /** A dataset of the file as DL4J's own Keras import reads it: the reference for the checks. */
  private static INDArray reference(Hdf5Archive archive, String layer, String weight) {
    try {
      return archive.readDataSet(weight, layer, layer);
    } catch (
        org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException
            e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void autoNamesNumberedFromElsewhereAreMatchedByNumber() {
    List<String> graph =
        List.of(
            "conv2d_1",
            "conv2d_2",
            "conv2d_3",
            "batch_normalization_1",
            "batch_normalization_2",
            "batch_normalization_3");
    // tf.keras 2 in a fresh session: conv2d, conv2d_1, ...
    Map<String, String> tf2 =
        KerasNames.renumbered(
            List.of(
                "conv2d",
                "conv2d_1",
                "conv2d_2",
                "batch_normalization",
                "batch_normalization_1",
                "batch_normalization_2",
                "dense"),
            graph);
    assertEquals("conv2d_1", tf2.get("conv2d"));
    assertEquals("conv2d_3", tf2.get("conv2d_2"));
    assertEquals("batch_normalization_2", tf2.get("batch_normalization_1"));
    assertFalse(tf2.containsKey("dense"));
    assertEquals(Map.of(), KerasNames.renumbered(graph, graph));
    // Keras 1 names, and a later model of a session; a graph cut short of the file's end
    assertEquals(
        "conv2d_2",
        KerasNames.renumbered(
                List.of("convolution2d_1", "convolution2d_2", "convolution2d_3"), graph)
            .get("convolution2d_2"));
    Map<String, String> later =
        KerasNames.renumbered(List.of("conv2d_95", "conv2d_96", "conv2d_97", "conv2d_98"), graph);
    assertEquals("conv2d_1", later.get("conv2d_95"));
    assertEquals("", later.get("conv2d_98"));
  }

  /** The same InceptionV3 saved by tf.keras 2 (conv2d, conv2d_1, …) loads the same. */
  @Test
  void tfKeras2NumberingLoads() throws IOException {
    Path h5 = dir.resolve("inception_tf2_names.h5");
    KerasWeightsWriter.save(source, h5, KerasWeightsTest::tf2Name);
    assertTrue(
        KerasWeights.layersWithWeights(h5)
            .containsAll(List.of("conv2d", "batch_normalization", "conv2d_93")));
    ComputationGraph g = fresh.clone();
    g.params().assign(0);
    KerasWeights.load(g, h5);
    assertEquals(source.params(), g.params());
  }

  private static String tf2Name(String name) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(conv2d|batch_normalization|activation)_(\\d+)")
            .matcher(name);
    if (!m.matches()) {
      return name;
    }
    int n = Integer.parseInt(m.group(2)) - 1;
    return n == 0 ? m.group(1) : m.group(1) + "_" + n;
  }
}
