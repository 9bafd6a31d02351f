package dev.graft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.data.ImageBatches;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.ImageTransform;
import dev.graft.head.Head;
import dev.graft.metrics.ClassificationReport;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import dev.graft.testing.Digits;
import dev.graft.testing.SmallNets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An honest transfer on real MNIST digits: a small CNN pretrained (here, in seconds) on digits 0-4
 * is the base; each strategy learns digits 5-9 from 10 labelled images per class, and beats the
 * same network trained from scratch on those 50 images, on 250 held-out images it never saw.
 */
class StrategiesTransferTest {
  private static final int PER_CLASS = 10;
  private static final int EPOCHS = 15;
  @TempDir static Path dir;
  private static ImageDataset train;
  private static ImageDataset heldOut;
  private static Base base;
  private static double scratchAccuracy;

  @BeforeAll
  static void setUp() throws IOException {
    Digits.data().extract(dir.resolve("train"), Digits.HIGH, 0, PER_CLASS);
    Digits.data().extract(dir.resolve("held-out"), Digits.HIGH, 500, 50);
    train = ImageFolder.of(dir.resolve("train"));
    heldOut = ImageFolder.of(dir.resolve("held-out"));
    base = Bases.fromGraph("digits0-4", SmallNets.pretrainedOnLowDigits()).cut("relu3").load();

    // The same architecture from scratch, all layers trainable, on the same 50 images.
    Nd4j.getRandom().setSeed(42);
    ComputationGraph scratch = SmallNets.cnn(5, 28, 42);
    DataSet few = Digits.tensors(Digits.HIGH, 0, PER_CLASS, 28);
    var it = Digits.iterator(few, 10);
    for (int e = 0; e < 2 * EPOCHS; e++) {
      it.reset();
      scratch.fit(it);
    }
    scratchAccuracy = accuracy(scratch, heldOut);
  }

  static Stream<Arguments> strategies() {
    return Stream.of(
        Arguments.of(Strategy.frozen().learningRate(3e-3), Head.averagePooling().dense(32)),
        Arguments.of(Strategy.fineTune().unfreezeLast(1).warmupEpochs(5).learningRate(1e-3),
            Head.averagePooling()),
        Arguments.of(Strategy.features().learningRate(1e-2), Head.averagePooling()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void eachStrategyBeatsTrainingFromScratch(Strategy strategy, Head head) throws IOException {
    TransferModel model = Graft.base(base).head(head).strategy(strategy).epochs(EPOCHS)
        .batchSize(10).seed(1).fit(train, null);
    double acc = accuracy(model.network(), heldOut);
    assertEquals(List.of("5", "6", "7", "8", "9"), model.labels());
    assertEquals(strategy.name(), model.info().strategy());
    assertTrue(acc > scratchAccuracy + 0.10 && acc > 0.6, strategy.name() + ": transfer "
        + acc + " vs scratch " + scratchAccuracy);
  }

  @Test
  void validationAndEarlyStoppingAreRecordedInTheModel() {
    TransferModel model = Graft.base(base).head(Head.averagePooling()).strategy(Strategy.features())
        .epochs(4).earlyStopping(2).batchSize(25).fit(train, heldOut);
    assertTrue(model.info().history().size() >= 3, model.info().history().toCsv());
    assertTrue(model.info().metrics().get("validationAccuracy") > 0.3);
    assertEquals(model.info().history().bestEpoch(),
        model.info().metrics().get("bestEpoch").intValue());
    INDArray probs = model.network().outputSingle(Digits.tensors(Digits.HIGH, 0, 1, 28).getFeatures());
    assertEquals(1.0, probs.getRow(0).sumNumber().doubleValue(), 1e-5);
  }

  static double accuracy(ComputationGraph net, ImageDataset data) {
    ImageTransform t = new ImageTransform(28, dev.graft.data.ResizeMode.CENTER_CROP,
        dev.graft.base.Preprocessing.unit());
    List<INDArray> probs = new ArrayList<>();
    List<INDArray> labels = new ArrayList<>();
    try (ImageBatches b = ImageBatches.builder(data, t).batchSize(50).build()) {
      while (b.hasNext()) {
        var ds = b.next();
        probs.add(net.outputSingle(ds.getFeatures()));
        labels.add(ds.getLabels());
      }
    }
    return ClassificationReport.of(data.labels(), Nd4j.concat(0, labels.toArray(INDArray[]::new)),
        Nd4j.concat(0, probs.toArray(INDArray[]::new))).accuracy();
  }
}
