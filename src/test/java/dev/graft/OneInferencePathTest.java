package dev.graft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.graph.InferenceGraphs;
import dev.graft.head.Head;
import dev.graft.model.Predictor;
import dev.graft.model.TransferModel;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One inference path: a head is served on the numbers it was trained on, the predictor agrees with
 * the plain DL4J network, and the optimization is right on the catalog's real architectures. Every
 * BatchNorm gets random statistics first: with the freshly initialised ones (mean 0, variance 1,
 * scale 1, shift 0) a wrong fold would go unnoticed.
 */
class OneInferencePathTest {
  private static final Logger log = LoggerFactory.getLogger(OneInferencePathTest.class);

  @TempDir Path tmp;

  @Test
  void predictionSeesExactlyTheFeaturesTheHeadWasTrainedOn() throws Exception {
    Base base = base(Architecture.RESNET50, 32);
    randomizeBatchNorm(base.graph(), 1);
    DataSet train = Digits.tensors(List.of(0, 1), 0, 3, base.inputSize());
    List<INDArray> built = new ArrayList<>();
    ActivationCache.Factory capture =
        (part, data) -> {
          ActivationCache c = ActivationCache.inMemory().build(part, data);
          built.add(c.batch(IntStream.range(0, c.size()).toArray()).getFeatures(0).dup());
          return c;
        };
    TransferModel model =
        Graft.base(base)
            .head(Head.averagePooling().dense(8))
            .strategy(Strategy.frozen())
            .epochs(1)
            .batchSize(6)
            .activationCache(capture)
            .fit(Digits.iterator(train, 6), null, List.of("0", "1"));
    INDArray trainedOn = built.get(0);
    Path file = tmp.resolve("m.graft");
    model.save(file);
    try (TransferModel loaded = TransferModel.load(file);
        Predictor p = loaded.predictor()) {
      INDArray served = p.features(train.getFeatures());
      assertArrayEquals(
          trainedOn.shape(), served.shape(), "the predictor's features have another shape");
      // bitwise: the same optimized graph (InferenceNetwork) on the same batch
      assertArrayEquals(
          trainedOn.dup('c').data().asFloat(),
          served.dup('c').data().asFloat(),
          0f,
          "features at prediction differ from those the head was trained on");
    }
  }

  @Test
  void predictorAgreesWithThePlainNetworkOfTheModelFile() throws Exception {
    Base base = base(Architecture.RESNET50, 32);
    randomizeBatchNorm(base.graph(), 2);
    DataSet train = Digits.tensors(List.of(0, 1, 2), 0, 2, base.inputSize());
    TransferModel model =
        Graft.base(base)
            .head(Head.averagePooling().dense(8))
            .strategy(Strategy.fineTune().unfreezeLast(4).warmupEpochs(1))
            .epochs(2)
            .batchSize(6)
            .fit(Digits.iterator(train, 6), null, List.of("0", "1", "2"));
    Path file = tmp.resolve("m.graft");
    model.save(file);
    try (TransferModel loaded = TransferModel.load(file)) {
      // what predict computed before the one inference path: the plain DL4J graph
      INDArray plain = loaded.network().output(false, train.getFeatures())[0];
      long t0 = System.nanoTime();
      try (Predictor p = loaded.predictor()) {
        log.warn(
            "predictor for a ResNet50 model at 32 px ready in {} ms (inference graph rebuilt)",
            (System.nanoTime() - t0) / 1_000_000);
        float[][] probs = p.probabilities(train.getFeatures());
        float max = 0;
        for (int i = 0; i < probs.length; i++) {
          for (int c = 0; c < probs[i].length; c++) {
            max = Math.max(max, Math.abs(probs[i][c] - plain.getFloat(i, c)));
          }
        }
        assertTrue(max <= 1e-5, "predictor differs from the plain network by " + max);
      }
    }
  }

  @Test
  void optimizedResNet50MatchesThePlainGraph() throws Exception {
    checkOptimization(Architecture.RESNET50, 32);
  }

  @Test
  void optimizedInceptionV3MatchesThePlainGraph() throws Exception {
    checkOptimization(Architecture.INCEPTION_V3, 75);
  }

  @Test
  void optimizedVgg16MatchesThePlainGraph() throws Exception {
    checkOptimization(Architecture.VGG16, 32);
  }

  /**
   * The optimized graph against the plain one at the base's cut, to a relative tolerance of 1e-4;
   * the same check on a graph with one BatchNorm's scale changed by 10 % must fail it (so the
   * tolerance would catch a wrong fold).
   */
  private static void checkOptimization(Architecture arch, int size) throws Exception {
    try (Base base = base(arch, size)) {
      ComputationGraph g = base.graph();
      randomizeBatchNorm(g, 3);
      Nd4j.getRandom().setSeed(4);
      INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, size, size).subi(0.5).muli(2);
      String cut = base.featureLayer();
      INDArray plain = g.output(List.of(cut), false, new INDArray[] {x}, null)[0];
      ComputationGraph fast = InferenceGraphs.optimize(g, List.of(cut));
      INDArray optimized = fast.output(false, x)[0];
      double tol = 1e-4 * plain.amaxNumber().doubleValue();
      double diff = optimized.sub(plain).amaxNumber().doubleValue();
      assertTrue(diff <= tol, arch + ": optimized differs by " + diff + " (tolerance " + tol + ")");

      Layer bn = firstBatchNorm(g);
      if (bn != null) {
        bn.getParam(BatchNormalizationParamInitializer.GAMMA).muli(1.1);
        INDArray wrong = g.output(List.of(cut), false, new INDArray[] {x}, null)[0];
        double off = wrong.sub(plain).amaxNumber().doubleValue();
        assertTrue(off > tol, arch + ": a 10 % scale error changes the output by only " + off);
      }
      assertEquals(plain.length(), optimized.length());
    }
  }

  private static Base base(Architecture arch, int size) throws Exception {
    return Bases.of(arch).weights(Weights.none()).inputSize(size).load();
  }

  private static Layer firstBatchNorm(ComputationGraph g) {
    for (Layer l : g.getLayers()) {
      if (l.paramTable().containsKey(BatchNormalizationParamInitializer.GLOBAL_VAR)
          && l.paramTable().containsKey(BatchNormalizationParamInitializer.GAMMA)) {
        return l;
      }
    }
    return null;
  }

  /** Random, plausible BatchNorm statistics and affine parameters in every BatchNorm layer. */
  static void randomizeBatchNorm(ComputationGraph g, long seed) {
    Nd4j.getRandom().setSeed(seed);
    for (Layer l : g.getLayers()) {
      var t = l.paramTable();
      if (!t.containsKey(BatchNormalizationParamInitializer.GLOBAL_MEAN)) {
        continue;
      }
      INDArray mean = t.get(BatchNormalizationParamInitializer.GLOBAL_MEAN);
      mean.assign(Nd4j.randn(mean.dataType(), mean.shape()).muli(0.1));
      if (t.containsKey(BatchNormalizationParamInitializer.GLOBAL_VAR)) {
        INDArray var = t.get(BatchNormalizationParamInitializer.GLOBAL_VAR);
        var.assign(Nd4j.rand(var.dataType(), var.shape()).muli(1.5).addi(0.5));
      }
      if (t.containsKey(BatchNormalizationParamInitializer.GAMMA)) {
        INDArray gamma = t.get(BatchNormalizationParamInitializer.GAMMA);
        gamma.assign(Nd4j.rand(gamma.dataType(), gamma.shape()).addi(0.5));
        INDArray beta = t.get(BatchNormalizationParamInitializer.BETA);
        beta.assign(Nd4j.randn(beta.dataType(), beta.shape()).muli(0.1));
      }
    }
  }
}
