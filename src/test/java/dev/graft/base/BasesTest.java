package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import dev.graft.testing.StdErr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class BasesTest {
  @TempDir Path dir;

  @Test
  void aSavedBaseLoadsBackBitIdenticalThroughWeightsFile() throws IOException {
    Base original = Bases.vgg16().weights(Weights.none()).seed(11).inputSize(32).load();
    Path zip = dir.resolve("vgg16-32.zip");
    ModelSerializer.writeModel(original.graph(), zip.toFile(), false);

    Base loaded = Bases.vgg16().weights(Weights.file(zip)).seed(99).inputSize(48).load();
    assertEquals(original.graph().params(), loaded.graph().params());
    assertTrue(loaded.weightsKey().matches("file:[0-9a-f]{64}"), loaded.weightsKey());
    assertEquals(48, loaded.inputSize());
    INDArray x = Nd4j.rand(2, 3, 32, 32);
    assertEquals(original.graph().outputSingle(x), loaded.graph().outputSingle(x));
    assertNotEquals(0.0, original.graph().params().sumNumber().doubleValue());
  }

  @Test
  void aWeightsFileThatDoesNotFitNamesTheLayer() throws IOException {
    Path zip = dir.resolve("tiny.zip");
    ModelSerializer.writeModel(tinyCnn(16), zip.toFile(), false);
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> Bases.vgg16().weights(Weights.file(zip)).inputSize(32).load());
    assertTrue(e.getMessage().contains("block1_conv1"), e.getMessage());
    assertTrue(e.getMessage().contains(zip.toString()), e.getMessage());
  }

  @Test
  void vgg16Fc2CutNeedsTheFullSizeAndGivesDenseFeatures() throws IOException {
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> Bases.vgg16().weights(Weights.none()).inputSize(64).cut("fc2").load());
    assertTrue(e.getMessage().contains("64") && e.getMessage().contains("fc2"), e.getMessage());

    Base top = Bases.vgg16().weights(Weights.none()).cut("fc2").load();
    assertEquals("fc2", top.featureLayer());
    assertEquals(List.of("fc2", "block5_pool"), top.cutPoints());
    assertEquals("top", top.blocks().get(top.blocks().size() - 1).name());
    assertEquals(List.of("fc1", "fc2"), top.blocks().get(5).layers());
    int s = top.inputSize();
    assertArrayEquals(
        new long[] {1, 4096}, top.graph().outputSingle(Nd4j.rand(1, 3, s, s)).shape());
  }

  @Test
  void resnet50CanCutAfterItsPooling() throws IOException {
    Base pooled = Bases.resnet50().weights(Weights.none()).inputSize(64).cut("avg_pool").load();
    assertArrayEquals(
        new long[] {2, 2048}, pooled.graph().outputSingle(Nd4j.rand(2, 3, 64, 64)).shape());
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> Bases.resnet50().weights(Weights.none()).inputSize(32).cut("fc1000").load());
    assertTrue(
        e.getMessage().contains("'fc1000'") && e.getMessage().contains("res5c_branch"),
        e.getMessage());
  }

  @Test
  void inceptionImagenetOfflineWithoutKerasFileIsAClearError() {
    // InceptionV3's ImageNet weights are Keras's .h5 (KerasImagenetTest covers the download)
    GraftException e =
        assertThrows(
            GraftException.class,
            () ->
                Bases.inceptionV3()
                    .imagenet()
                    .inputSize(75)
                    .cacheDir(dir.resolve("cache"))
                    .offline(true)
                    .load());
    assertTrue(
        e.getMessage().contains("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        e.getMessage());
  }

  @Test
  void fromFileComputationGraphDefaults() throws Exception {
    ComputationGraph cnn = tinyCnn(20);
    Path zip = dir.resolve("tiny-cnn.zip");
    ModelSerializer.writeModel(cnn, zip.toFile(), false);

    // the input size is inferred without DL4J's warnings about zero-height maps on the way
    StdErr.Captured<Base> loaded = StdErr.capture(() -> Bases.fromFile(zip).load());
    assertFalse(loaded.text().contains("height of 0"), loaded.text());
    Base base = loaded.value();
    assertEquals("tiny-cnn", base.id());
    assertEquals(Preprocessing.unit(), base.preprocessing());
    assertEquals(20, base.inputSize());
    assertEquals("dense", base.featureLayer());
    assertEquals("img", base.inputName());
    assertEquals(List.of("conv", "dense"), base.blocks().stream().map(Block::name).toList());
    assertTrue(base.weightsKey().startsWith("file:"));
    INDArray x = Nd4j.rand(3, 3, 20, 20);
    assertArrayEquals(new long[] {3, 8}, base.graph().outputSingle(x).shape());
    // Same numbers as the original graph up to the cut.
    assertEquals(cnn.feedForward(x, false).get("dense"), base.graph().outputSingle(x));

    Base atConv = Bases.fromFile(zip).cut("conv").preprocessing(Preprocessing.caffe()).load();
    assertEquals(4, atConv.graph().outputSingle(x).rank());
    assertEquals(Preprocessing.caffe(), atConv.preprocessing());
  }

  @Test
  void fromFileMultiLayerNetworkIsConverted() throws IOException {
    MultiLayerNetwork lenet =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(3)
                .list()
                .layer(
                    new ConvolutionLayer.Builder(5, 5).nOut(6).activation(Activation.RELU).build())
                .layer(
                    new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new DenseLayer.Builder().nOut(32).activation(Activation.RELU).build())
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build());
    lenet.init();
    Path zip = dir.resolve("lenet.zip");
    ModelSerializer.writeModel(lenet, zip.toFile(), false);

    Base base = Bases.fromFile(zip).load();
    assertEquals(28, base.inputSize());
    assertEquals(1, base.inputChannels());
    INDArray x = Nd4j.rand(2, 1, 28, 28);
    INDArray features = base.graph().outputSingle(x);
    assertArrayEquals(new long[] {2, 32}, features.shape());
    assertEquals(lenet.feedForward(x.reshape(2, 784), false).get(3), features);
  }

  @Test
  void fromGraphNeedsASizeWhenFullyConvolutional() throws IOException {
    ComputationGraph fcn =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(16, 16, 3))
                .addLayer(
                    "c",
                    new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .convolutionMode(ConvolutionMode.Same)
                        .build(),
                    "in")
                .addLayer("gap", new GlobalPoolingLayer.Builder().build(), "c")
                .addLayer(
                    "out",
                    new OutputLayer.Builder().nIn(4).nOut(2).activation(Activation.SOFTMAX).build(),
                    "gap")
                .setOutputs("out")
                .build());
    fcn.init();
    BaseSettingException e =
        assertThrows(BaseSettingException.class, () -> Bases.fromGraph("fcn", fcn).load());
    assertEquals(BaseSettingException.Setting.INPUT_SIZE, e.setting());
    assertTrue(e.getMessage().contains("inputSize"), e.getMessage());
    Base base = Bases.fromGraph("fcn", fcn).inputSize(40).load();
    assertEquals("gap", base.featureLayer());
    assertTrue(base.weightsKey().matches("graph:[0-9a-f]{64}"), base.weightsKey());
    assertArrayEquals(
        new long[] {1, 4}, base.graph().outputSingle(Nd4j.rand(1, 3, 40, 40)).shape());

    GraftException weights =
        assertThrows(
            GraftException.class,
            () -> Bases.fromGraph("fcn", fcn).weights(Weights.none()).inputSize(40).load());
    assertTrue(weights.getMessage().contains("catalog"), weights.getMessage());
    ComputationGraph noCut = Bases.fromGraph("fcn", fcn).inputSize(40).cut("out").load().graph();
    assertSame(fcn, noCut);
  }

  @Test
  void catalogResolvesIdsAndRefusesTheRest() throws IOException {
    assertEquals("vgg16", Architecture.named("VGG16").id());
    Base resnet = Bases.catalog("ResNet-50").weights(Weights.none()).inputSize(32).load();
    assertEquals("resnet50", resnet.id());
    assertEquals(Architecture.RESNET50, resnet.architecture().orElseThrow());
    GraftException unknown = assertThrows(GraftException.class, () -> Bases.catalog("alexnet"));
    assertTrue(unknown.getMessage().contains("'alexnet'"), unknown.getMessage());
    assertTrue(unknown.getMessage().contains("vgg16, resnet50, inceptionv3"), unknown.getMessage());
    BaseSettingException missing =
        assertThrows(
            BaseSettingException.class, () -> Bases.fromFile(dir.resolve("nope.zip")).load());
    assertEquals(BaseSettingException.Setting.BASE, missing.setting());
    assertTrue(missing.getMessage().contains("nope.zip"), missing.getMessage());
  }

  @Test
  void notAZipIsAClearError() throws IOException {
    Path junk = Files.writeString(dir.resolve("junk.zip"), "not a zip");
    GraftException e = assertThrows(GraftException.class, () -> Bases.fromFile(junk).load());
    assertTrue(e.getMessage().contains("junk.zip"), e.getMessage());
  }

  /** A small CNN with an input named "img": conv → dense(8) → softmax output. */
  static ComputationGraph tinyCnn(int size) {
    ComputationGraph g =
        new ComputationGraph(
            new NeuralNetConfiguration.Builder()
                .seed(5)
                .graphBuilder()
                .addInputs("img")
                .setInputTypes(InputType.convolutional(size, size, 3))
                .addLayer(
                    "conv",
                    new ConvolutionLayer.Builder(3, 3)
                        .stride(2, 2)
                        .nOut(4)
                        .activation(Activation.RELU)
                        .build(),
                    "img")
                .addLayer(
                    "dense",
                    new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build(),
                    "conv")
                .addLayer(
                    "out",
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(3)
                        .activation(Activation.SOFTMAX)
                        .build(),
                    "dense")
                .setOutputs("out")
                .build());
    g.init();
    return g;
  }

  @Test
  void weightsNamedOnTheCommandLine() {
    assertEquals(Weights.imagenet(), Weights.named("ImageNet"));
    assertEquals(Weights.none(), Weights.named("none"));
    assertEquals(Weights.keras(Path.of("w/inception.h5")), Weights.named("w/inception.h5"));
    assertEquals(Weights.file(Path.of("base.zip")), Weights.named("base.zip"));
    assertThrows(GraftException.class, () -> Weights.named(" "));
  }
}
