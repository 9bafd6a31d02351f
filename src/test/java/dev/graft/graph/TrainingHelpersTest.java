package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.nn.ChannelMultiplyVertex;
import dev.graft.perf.NativeTuning;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The training path ({@link Rebuild#instantiateForTraining}: DL4J's oneDNN layer helpers for
 * convolution, BatchNorm and pooling) computes the gradients DL4J's reference path computes, for
 * every layer type the bases train: convolution (Same and Truncate), depthwise convolution,
 * BatchNorm in training mode and in inference mode ({@link InferenceBatchNorm}), max and average
 * pooling, activations, a residual addition, a concatenation, squeeze-and-excitation (global
 * pooling, dense, {@link ChannelMultiplyVertex}), dense and softmax cross-entropy. The reference
 * path itself is checked against central finite differences.
 */
class TrainingHelpersTest {
  static final long SEED = 7;

  @BeforeAll
  static void natives() {
    NativeTuning.apply();
  }

  /** A small graph with one of each layer type; BatchNorm {@code bn2} in inference mode. */
  private static ComputationGraphConfiguration conf(DataType type) {
    ComputationGraphConfiguration.GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(SEED)
            .dataType(type)
            .updater(new Adam(1e-2))
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(12, 12, 3));
    // two convolutions and a pooling read the network's input: the convolutions compute no input
    // gradient, the pooling's is dropped
    g.addLayer("conv1", new ConvolutionLayer.Builder(3, 3).nOut(8).hasBias(false).build(), "in");
    g.addLayer(
        "skip",
        new ConvolutionLayer.Builder(1, 1).nOut(8).activation(Activation.IDENTITY).build(),
        "in");
    g.addLayer("bn1", new BatchNormalization.Builder().build(), "conv1");
    // after the BatchNorm, where a bias still changes the loss
    g.addVertex("stem", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn1", "skip");
    g.addLayer("relu1", new ActivationLayer(Activation.RELU6), "stem");
    g.addLayer(
        "pool1",
        new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
        "relu1");
    g.addLayer(
        "dw", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).nOut(8).build(), "pool1");
    g.addLayer(
        "bn2", new InferenceBatchNorm(new BatchNormalization.Builder().nOut(8).build()), "dw");
    g.addLayer(
        "proj",
        new ConvolutionLayer.Builder(1, 1)
            .nOut(8)
            .hasBias(false) // as in MobileNetV2: the helper's other path, without a bias
            .convolutionMode(ConvolutionMode.Truncate)
            .activation(Activation.IDENTITY)
            .build(),
        "pool1");
    g.addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", "proj");
    g.addLayer("relu_add", new ActivationLayer(Activation.RELU), "add");
    // stride-1 convolutions with a bias, explicit padding, an activation and a non-square kernel:
    // TrainingConvolutionHelper's cases
    g.addLayer(
        "convb",
        new ConvolutionLayer.Builder(3, 3)
            .padding(1, 1)
            .convolutionMode(ConvolutionMode.Truncate)
            .nOut(8)
            .activation(Activation.RELU)
            .build(),
        "pool1");
    g.addLayer(
        "conv15",
        new ConvolutionLayer.Builder(1, 5).nOut(8).activation(Activation.IDENTITY).build(),
        "convb");
    // a depthwise convolution without an activation, as MobileNetV2 and EfficientNet have them
    g.addLayer(
        "dw_id",
        new DepthwiseConvolution2D.Builder(3, 3)
            .depthMultiplier(1)
            .nOut(8)
            .activation(Activation.IDENTITY)
            .build(),
        "conv15");
    g.addLayer("swish15", new ActivationLayer(Activation.SWISH), "dw_id");
    g.addLayer(
        "in_pool",
        new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(2, 2).build(),
        "in");
    g.addVertex("cat", new MergeVertex(), "relu_add", "pool1", "swish15", "in_pool");
    g.addLayer(
        "pool2",
        new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(2, 2).build(),
        "cat");
    // squeeze-and-excitation as EfficientNet has it: 1×1 convolutions of a 1×1 map
    g.addLayer(
        "se_pool",
        new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
        "pool2");
    g.addLayer(
        "se_reduce",
        new ConvolutionLayer.Builder(1, 1).nOut(6).activation(Activation.SWISH).build(),
        "se_pool");
    g.addLayer(
        "se_gate",
        new ConvolutionLayer.Builder(1, 1).nOut(27).activation(Activation.SIGMOID).build(),
        "se_reduce");
    g.addVertex("se", new ChannelMultiplyVertex(), "pool2", "se_gate");
    g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "se");
    g.addLayer(
        "dense", new DenseLayer.Builder().nOut(10).activation(Activation.SWISH).build(), "gap");
    g.addLayer(
        "out",
        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
            .nOut(4)
            .activation(Activation.SOFTMAX)
            .build(),
        "dense");
    g.setOutputs("out");
    return g.build();
  }

  /**
   * The graph as fine-tuning rebuilds it: every layer trains except {@code bn2}, which Rebuild
   * wraps as {@link InferenceBatchNorm} (gradients through, statistics fixed); DL4J's own layers.
   */
  private static ComputationGraph reference(DataType type) {
    return reference(type, new Adam(1e-2));
  }

  private static ComputationGraph reference(
      DataType type, org.nd4j.linalg.learning.config.IUpdater updater) {
    return reference(type, updater, 0);
  }

  private static ComputationGraph reference(
      DataType type, org.nd4j.linalg.learning.config.IUpdater updater, double weightDecay) {
    ComputationGraph source = new ComputationGraph(conf(type));
    source.init();
    // BatchNorm statistics away from 0/1, so the inference-mode layer does real work
    source.getLayer("bn2").setParam("mean", Nd4j.rand(type, 1, 8).subi(0.5));
    source.getLayer("bn2").setParam("var", Nd4j.rand(type, 1, 8).addi(0.5));
    // bn1's outputs around 5.5, so that ReLU6 above it saturates for about a third of them
    source.getLayer("bn1").setParam("beta", Nd4j.valueArrayOf(new long[] {1, 8}, 5.5, type));
    ComputationGraph ref = rebuilt(source, "bn2", updater, weightDecay);
    assertTrue(
        ((org.deeplearning4j.nn.conf.graph.LayerVertex)
                    ref.getConfiguration().getVertices().get("bn2"))
                .getLayerConf()
                .getLayer()
            instanceof InferenceBatchNorm,
        "bn2 runs in inference mode");
    return ref;
  }

  /**
   * {@code source} as fine-tuning rebuilds it, on DL4J's own layers: every layer with parameters
   * trains with a clone of {@code updater}, except the BatchNorm layers whose names match the
   * regular expression {@code inferenceMode}, which Rebuild wraps as {@link InferenceBatchNorm}
   * (gradients through, statistics fixed).
   */
  static ComputationGraph rebuilt(
      ComputationGraph source,
      String inferenceMode,
      org.nd4j.linalg.learning.config.IUpdater updater,
      double weightDecay) {
    ComputationGraphConfiguration src = source.getConfiguration();
    Map<String, org.nd4j.linalg.learning.config.IUpdater> updaters = new TreeMap<>();
    for (String v : src.getVertices().keySet()) {
      if (Layers.hasParams(src, v) && !v.matches(inferenceMode)) {
        updaters.put(v, updater.clone());
      }
    }
    ComputationGraphConfiguration rebuilt =
        Rebuild.rebuild(
            src,
            src.getVertices().keySet(),
            src.getNetworkInputs(),
            src.getNetworkOutputs(),
            updaters,
            weightDecay,
            SEED);
    assertEquals(src.getVertices().size(), rebuilt.getVertices().size());
    return Rebuild.instantiate(rebuilt, source, SEED);
  }

  static ComputationGraph withHelpers(ComputationGraph reference) {
    return Rebuild.instantiateForTraining(reference.getConfiguration().clone(), reference, SEED);
  }

  private static MultiDataSet batch(DataType type) {
    Nd4j.getRandom().setSeed(SEED);
    INDArray x = Nd4j.rand(type, 6, 3, 12, 12);
    INDArray y = Nd4j.zeros(type, 6, 4);
    for (int i = 0; i < 6; i++) {
      y.putScalar(i, i % 4, 1);
    }
    return new MultiDataSet(x, y);
  }

  /** Each parameter's gradient, by variable name. */
  static Map<String, INDArray> gradients(ComputationGraph net, MultiDataSet ds) {
    net.setInputs(ds.getFeatures());
    net.setLabels(ds.getLabels());
    net.computeGradientAndScore();
    Map<String, INDArray> m = new TreeMap<>();
    net.gradient().gradientForVariable().forEach((k, v) -> m.put(k, v.dup()));
    return m;
  }

  static double relativeError(INDArray a, INDArray b) {
    double scale = Math.max(b.norm2Number().doubleValue(), 1e-12);
    return a.sub(b).norm2Number().doubleValue() / scale;
  }

  @Test
  void theHelpersRunAndGiveTheReferenceGradients() {
    ComputationGraph ref = reference(DataType.FLOAT);
    ComputationGraph fast = withHelpers(ref);
    if (NativeTuning.oneDnnAvailable()) {
      assertNotNull(
          ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) fast.getLayer("conv1"))
              .getHelper(),
          "the training network's convolution runs on oneDNN");
      for (String conv : List.of("conv1", "skip", "convb", "conv15", "se_reduce", "se_gate")) {
        assertTrue(
            ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) fast.getLayer(conv))
                    .getHelper()
                instanceof TrainingConvolutionHelper,
            conv + "'s backward pass avoids conv2d_bp's Winograd kernels");
      }
    }
    assertNull(
        ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) ref.getLayer("conv1"))
            .getHelper(),
        "the reference path is DL4J's own");
    assertSameGradients(ref, fast, batch(DataType.FLOAT), 14);
    assertTrue(
        fast.getLayer("dw") instanceof TrainingDepthwiseConvolution.CachingLayer dw
            && dw.keptPreActivation(),
        "the depthwise convolution's backward pass reuses the forward pass's pre-activation");
    assertTrue(
        fast.getLayer("dw_id") instanceof TrainingDepthwiseConvolution.CachingLayer dw
            && dw.keptPreActivation(),
        "the depthwise convolution without an activation keeps its output");
    for (String conv :
        List.of("conv1", "skip", "proj", "convb", "conv15", "se_reduce", "se_gate")) {
      assertEquals(0, helperFailures(fast, conv), conv + " fell back to DL4J's own path");
      if (NativeTuning.oneDnnAvailable()) {
        boolean identity = List.of("skip", "proj", "conv15").contains(conv);
        assertEquals(
            identity,
            fast.getLayer(conv) instanceof TrainingConvolution.Runtime r && r.keptOutput(),
            conv + (identity ? " keeps" : " copies") + " its output for the backward pass");
      }
    }
    if (NativeTuning.oneDnnAvailable()) {
      assertTrue(
          fast.getVertex("in") instanceof NoGradientInput, "the network's input takes no gradient");
      Map<String, TrainingConvolutionHelper.Pass> backward =
          Map.of(
              "conv1", TrainingConvolutionHelper.Pass.WEIGHTS_ONLY,
              "skip", TrainingConvolutionHelper.Pass.WEIGHTS_ONLY,
              "proj", TrainingConvolutionHelper.Pass.ONE_DNN,
              "convb", TrainingConvolutionHelper.Pass.STRIDE_ONE,
              "conv15", TrainingConvolutionHelper.Pass.STRIDE_ONE,
              "se_reduce", TrainingConvolutionHelper.Pass.DENSE,
              "se_gate", TrainingConvolutionHelper.Pass.DENSE);
      backward.forEach(
          (conv, pass) -> {
            TrainingConvolutionHelper h =
                (TrainingConvolutionHelper)
                    ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer)
                            fast.getLayer(conv))
                        .getHelper();
            assertEquals(pass, h.lastBackward(), conv + "'s backward pass");
            assertEquals(
                !conv.equals("conv1") && !conv.equals("skip"),
                h.computesInputGradient(),
                conv + " computes its input gradient only when something reads it");
            assertEquals(
                conv.startsWith("se_")
                    ? TrainingConvolutionHelper.Pass.DENSE
                    : TrainingConvolutionHelper.Pass.ONE_DNN,
                h.lastForward(),
                conv + "'s forward pass");
          });
    }
    for (String act : List.of("relu1", "relu_add", "swish15")) {
      assertTrue(
          fast.getLayer(act) instanceof TrainingActivationLayer.OnePassLayer a
              && a.onePassCount() == 2,
          act + " activated and backpropagated in one pass each");
    }
    assertEquals(
        1,
        ((TrainingActivationLayer.OnePassLayer) fast.getLayer("swish15")).reusedTanhCount(),
        "swish's backward pass reused the forward pass's tanh");
    for (String pool : List.of("se_pool", "gap")) {
      assertTrue(
          fast.getLayer(pool) instanceof OnePassGlobalPooling.OnePassLayer p
              && p.onePassCount() == 2,
          pool + " pooled and backpropagated in one pass each");
    }
    assertTrue(
        ((org.deeplearning4j.nn.conf.layers.BaseLayer) fast.getLayer("dense").conf().getLayer())
                .getActivationFn()
            instanceof dev.graft.nn.ActivationSwishTanh,
        "swish trains with its vectorised backward pass");
    assertTrue(
        ((org.deeplearning4j.nn.conf.layers.ActivationLayer)
                    fast.getLayer("relu1").conf().getLayer())
                .getActivationFn()
            instanceof TrainingReLU6,
        "ReLU6 trains with its vectorised backward pass");
  }

  /**
   * Asserts that {@code fast} computes {@code ref}'s score (to 1e-5) and gradients (to 1e-4
   * relative, each variable), with at least {@code variables} variables, none of them all zero.
   */
  static void assertSameGradients(
      ComputationGraph ref, ComputationGraph fast, MultiDataSet ds, int variables) {
    Map<String, INDArray> expected = gradients(ref, ds);
    Map<String, INDArray> actual = gradients(fast, ds);
    assertEquals(expected.keySet(), actual.keySet());
    assertTrue(
        expected.size() >= variables, "every trainable layer has a gradient: " + expected.keySet());
    expected.forEach(
        (k, e) -> {
          double err = relativeError(actual.get(k), e);
          assertTrue(err < 1e-4, k + ": relative error " + err);
          assertTrue(
              isStatistic(k) || e.norm2Number().doubleValue() > 0,
              k + ": zero gradient, nothing checked");
        });
    assertEquals(ref.score(), fast.score(), 1e-5 * Math.abs(ref.score()));
  }

  /** DL4J counts a helper's failures and then quietly runs its own path instead. */
  static int helperFailures(ComputationGraph net, String layer) {
    try {
      java.lang.reflect.Field f =
          org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class.getDeclaredField(
              "helperCountFail");
      f.setAccessible(true);
      return f.getInt(net.getLayer(layer));
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void adamStepsAgreeWithTheReferencePath() {
    // with weight decay, which the updater applies per variable after Adam
    ComputationGraph ref = reference(DataType.FLOAT, new Adam(1e-2), 0.05);
    ComputationGraph fast = withHelpers(ref);
    List<String> updaters =
        fast.getUpdater().getUpdaterBlocks().stream()
            .map(b -> b.getGradientUpdater().getClass().getSimpleName())
            .toList();
    assertTrue(
        updaters.contains("ChunkedAdam") && !updaters.contains("AdamUpdater"),
        "every Adam block of the training network runs the chunked loop: " + updaters);
    assertSameAdamSteps(
        ref, fast, batch(DataType.FLOAT), reference(DataType.FLOAT, new Adam(1e-2), 0.05));
  }

  /**
   * Asserts that three training steps of {@code ref} and {@code fast} on {@code ds} end at the same
   * parameters (to 1e-5) and Adam moments, through the training updater's own-gradient path, and
   * away from {@code untouched}'s parameters.
   */
  static void assertSameAdamSteps(
      ComputationGraph ref, ComputationGraph fast, MultiDataSet ds, ComputationGraph untouched) {
    // where a gradient is small against its variable's largest, cancellation leaves it with a
    // larger relative rounding error (one se_reduce_W entry: 4.5e-5 against 1.5, 6e-5 apart on the
    // two paths; one conv15_W entry: 6e-11, pure rounding), and Adam divides by its own scale:
    // those entries are held to a looser bound
    Map<String, INDArray> firstGradient = gradients(ref, ds);
    for (int step = 0; step < 3; step++) { // the bias corrections change with the iteration
      ref.fit(ds);
      fast.fit(ds);
    }
    assertTrue(
        fast.getUpdater() instanceof TrainingUpdater u && u.ownGradientSteps() == 3,
        "the training network's updater took DL4J's path for the network's own gradient");
    INDArray a = ref.params();
    INDArray b = fast.params();
    assertTrue(
        a.sub(b).amaxNumber().doubleValue() < 1e-4,
        "parameters after three steps differ by " + a.sub(b).amaxNumber());
    ref.paramTable()
        .forEach(
            (k, p) -> {
              INDArray g = firstGradient.get(k);
              INDArray diff = Transforms.abs(p.sub(fast.paramTable().get(k)));
              if (g != null && !isStatistic(k)) {
                INDArray clear =
                    Transforms.abs(g).gt(1e-4 * g.amaxNumber().doubleValue()).castTo(p.dataType());
                double maxDiff = diff.muli(clear).maxNumber().doubleValue();
                assertTrue(maxDiff < 1e-5, k + " after three steps differs by " + maxDiff);
              }
            });
    double stateError =
        relativeError(fast.getUpdater().getStateViewArray(), ref.getUpdater().getStateViewArray());
    assertTrue(stateError < 1e-5, "Adam's moments differ by " + stateError);
    assertTrue(
        a.sub(untouched.params()).amaxNumber().doubleValue() > 1e-4,
        "the steps changed the parameters");
  }

  /**
   * The chunked Adam against libnd4j's op on state that sits at an offset inside a larger array (as
   * DL4J's updater blocks do), long enough to be split across threads, with a learning-rate
   * schedule.
   */
  @Test
  void chunkedAdamMatchesLibnd4jsAdamOnViews() {
    long n = 200_003; // more than one chunk per thread, and not a multiple of one
    org.nd4j.linalg.learning.config.Adam config =
        new org.nd4j.linalg.learning.config.Adam(
            new org.nd4j.linalg.schedule.StepSchedule(
                org.nd4j.linalg.schedule.ScheduleType.ITERATION, 1e-2, 0.5, 2));
    INDArray states = Nd4j.zeros(DataType.FLOAT, 1, 4 * n + 17);
    INDArray dl4jState =
        states.get(NDArrayIndex.point(0), NDArrayIndex.interval(17, 17 + 2 * n)).reshape(1, 2 * n);
    INDArray ourState =
        states
            .get(NDArrayIndex.point(0), NDArrayIndex.interval(17 + 2 * n, 17 + 4 * n))
            .reshape(1, 2 * n);
    org.nd4j.linalg.learning.AdamUpdater dl4j = new org.nd4j.linalg.learning.AdamUpdater(config);
    dl4j.setStateViewArray(dl4jState, new long[] {1, n}, 'c', true);
    ChunkedAdam ours = ChunkedAdam.of(config);
    ours.setStateViewArray(ourState, new long[] {1, n}, 'c', true);
    Nd4j.getRandom().setSeed(7);
    INDArray grads = Nd4j.rand(DataType.FLOAT, 5, n + 9).subi(0.5);
    for (int it = 0; it < 5; it++) {
      INDArray g = grads.get(NDArrayIndex.point(it), NDArrayIndex.interval(9, 9 + n));
      INDArray expected = g.dup();
      INDArray actual = g.dup();
      dl4j.applyUpdater(expected, it, 0);
      ours.applyUpdater(actual, it, 0);
      double err = relativeError(actual, expected);
      assertTrue(err < 1e-6, "update " + it + " differs by " + err);
      assertTrue(expected.norm2Number().doubleValue() > 0, "update " + it + " is not zero");
    }
    assertTrue(relativeError(ourState, dl4jState) < 1e-6, "the moments differ");
  }

  @Test
  void theGradientsMatchFiniteDifferences() {
    // central differences of the score in double precision (the helpers run in float only, and
    // match this path to 1e-4 above); DL4J's gradient is summed over the minibatch, the score is
    // its mean: compare gradient / batch size
    ComputationGraph net = reference(DataType.DOUBLE, new org.nd4j.linalg.learning.config.NoOp());
    MultiDataSet ds = batch(DataType.DOUBLE);
    Map<String, INDArray> analytic = gradients(net, ds);
    long batchSize = ds.getFeatures(0).size(0);
    double eps = 1e-6;
    int checked = 0;
    for (var e : new TreeMap<>(net.paramTable()).entrySet()) {
      INDArray p = e.getValue(); // a view of the network's parameters
      INDArray g = analytic.get(e.getKey());
      if (g == null || isStatistic(e.getKey())) {
        continue;
      }
      // every 17th value of each variable: all layer types, at a bearable cost
      assertArrayEquals(p.shape(), g.shape(), e.getKey());
      for (long i = 0; i < p.length(); i += 17) {
        long[] at = org.nd4j.linalg.api.shape.Shape.ind2subC(p.shape(), i);
        double orig = p.getDouble(at);
        p.putScalar(at, orig + eps);
        double plus = score(net, ds);
        p.putScalar(at, orig - eps);
        double minus = score(net, ds);
        p.putScalar(at, orig);
        double numeric = (plus - minus) / (2 * eps);
        double a = g.getDouble(at) / batchSize;
        double err = Math.abs(numeric - a) / Math.max(1e-12, Math.abs(numeric) + Math.abs(a));
        assertTrue(
            err < 1e-4 || Math.abs(numeric - a) < 1e-8,
            e.getKey() + "[" + i + "]: " + a + " vs " + numeric);
        checked++;
      }
    }
    assertTrue(checked > 40, "checked " + checked);
  }

  /**
   * BatchNorm's moving statistics: DL4J reports their update as a gradient; no loss depends on
   * them.
   */
  static boolean isStatistic(String variable) {
    return variable.matches(".*_(mean|var|log10stdev)");
  }

  private static double score(ComputationGraph net, MultiDataSet ds) {
    net.setInputs(ds.getFeatures());
    net.setLabels(ds.getLabels());
    net.computeGradientAndScore();
    return net.score();
  }
}
