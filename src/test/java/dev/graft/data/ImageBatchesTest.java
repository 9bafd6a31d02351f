package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Preprocessing;
import dev.graft.error.GraftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ImageBatchesTest {

  @TempDir Path dir;

  private static ImageDataset mnist() throws Exception {
    return ImageFolder.of(ImageDatasetTest.MNIST);
  }

  private static List<DataSet> epoch(ImageBatches it) {
    List<DataSet> out = new ArrayList<>();
    while (it.hasNext()) {
      out.add(it.next());
    }
    return out;
  }

  private static void assertSameBatches(List<DataSet> a, List<DataSet> b) {
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).getFeatures(), b.get(i).getFeatures(), "features of batch " + i);
      assertEquals(a.get(i).getLabels(), b.get(i).getLabels(), "labels of batch " + i);
      assertEquals(a.get(i).getExampleMetaData(), b.get(i).getExampleMetaData());
    }
  }

  @Test
  void sameBatchesWithOneOrFourThreadsAcrossEpochs() throws Exception {
    ImageDataset data = mnist();
    ImageTransform t = ImageTransform.of(28, Preprocessing.unit());
    try (ImageBatches one =
            ImageBatches.builder(data, t)
                .batchSize(16)
                .shuffle(42)
                .augmentation(Augmentation.standard())
                .threads(1)
                .prefetch(1)
                .build();
        ImageBatches four =
            ImageBatches.builder(data, t)
                .batchSize(16)
                .shuffle(42)
                .augmentation(Augmentation.standard())
                .threads(4)
                .prefetch(3)
                .build()) {
      List<DataSet> a0 = epoch(one);
      List<DataSet> b0 = epoch(four);
      assertEquals(13, a0.size());
      assertEquals(8, a0.get(12).numExamples());
      assertSameBatches(a0, b0);
      one.reset();
      four.reset();
      assertEquals(1, one.epoch());
      List<DataSet> a1 = epoch(one);
      assertSameBatches(a1, epoch(four));
      assertNotEquals(
          a0.get(0).getExampleMetaData(),
          a1.get(0).getExampleMetaData(),
          "a new shuffle every epoch");
    }
  }

  @Test
  void batchesAreNchwFloatWithOneHotLabelsInDatasetOrder() throws Exception {
    ImageDataset data = mnist();
    ImageTransform t = ImageTransform.of(32, Preprocessing.caffe());
    try (ImageBatches it = ImageBatches.builder(data, t).batchSize(64).build()) {
      assertEquals(4, it.batchesPerEpoch());
      assertEquals(10, it.totalOutcomes());
      assertEquals(3 * 32 * 32, it.inputColumns());
      assertEquals(data.labels(), it.getLabels());
      List<DataSet> all = epoch(it);
      assertEquals(4, all.size());
      DataSet first = all.get(0);
      assertArrayEquals(new long[] {64, 3, 32, 32}, first.getFeatures().shape());
      assertArrayEquals(new long[] {64, 10}, first.getLabels().shape());
      assertEquals(org.nd4j.linalg.api.buffer.DataType.FLOAT, first.getFeatures().dataType());
      int row = 0;
      for (DataSet ds : all) {
        for (int i = 0; i < ds.numExamples(); i++, row++) {
          Sample s = data.samples().get(row);
          assertEquals(s.path().toString(), ds.getExampleMetaData().get(i));
          assertEquals(1.0, ds.getLabels().getRow(i).sumNumber().doubleValue(), 1e-6);
          assertEquals(s.label(), ds.getLabels().getRow(i).argMax().getInt(0));
        }
      }
      assertEquals(200, row);
      // The pixels are those of ImageTransform.toChw, the path used for prediction.
      float[] expected = t.toChw(data.samples().get(5).path());
      assertArrayEquals(
          expected,
          first
              .getFeatures()
              .get(org.nd4j.linalg.indexing.NDArrayIndex.point(5))
              .dup()
              .data()
              .asFloat(),
          1e-6f);
      // A reset before a new epoch starts changes nothing; after one, without shuffle, same order.
      it.reset();
      List<DataSet> again = epoch(it);
      assertSameBatches(all, again);
    }
  }

  @Test
  void resetMidEpochRestartsAndFreshResetIsANoOp() throws Exception {
    ImageDataset data = mnist();
    ImageTransform t = ImageTransform.of(16, Preprocessing.unit());
    try (ImageBatches it = ImageBatches.builder(data, t).batchSize(20).shuffle(3).build()) {
      it.reset();
      it.reset();
      assertEquals(0, it.epoch());
      DataSet first = it.next();
      it.next();
      it.reset(); // abandon epoch 0 after two batches
      assertEquals(1, it.epoch());
      List<DataSet> e1 = epoch(it);
      assertEquals(10, e1.size());
      assertNotEquals(first.getExampleMetaData(), e1.get(0).getExampleMetaData());
      assertFalse(it.hasNext());
      assertThrows(java.util.NoSuchElementException.class, it::next);
    }
  }

  @Test
  void aFileThatFailsToDecodeIsSkippedOnceOrStopsAStrictRun() throws Exception {
    Path root = dir.resolve("d");
    for (int i = 0; i < 5; i++) {
      TestImages.write(TestImages.photo(40, 30, i), "png", root.resolve("a/" + i + ".png"));
      TestImages.write(TestImages.photo(30, 40, i + 9), "jpeg", root.resolve("b/" + i + ".jpg"));
    }
    Path cut = TestImages.truncate(root.resolve("a/2.png"), root.resolve("a/2x.png"), 0.5);
    ImageDataset data = ImageFolder.of(root);
    assertEquals(11, data.size(), "a truncated file passes the scan's header check");
    ImageTransform t = ImageTransform.of(24, Preprocessing.unit());
    try (ImageBatches it = ImageBatches.builder(data, t).batchSize(4).threads(2).build()) {
      List<DataSet> e0 = epoch(it);
      assertEquals(3, e0.size());
      assertEquals(3, e0.get(0).numExamples(), "the batch holding the bad file is one short");
      assertEquals(10, e0.stream().mapToInt(DataSet::numExamples).sum());
      assertEquals(1, it.skipped().size());
      assertEquals(cut, it.skipped().get(0).path());
      it.reset();
      assertEquals(10, epoch(it).stream().mapToInt(DataSet::numExamples).sum());
      assertEquals(1, it.skipped().size(), "listed once");
    }
    try (ImageBatches strict = ImageBatches.builder(data, t).batchSize(4).strict(true).build()) {
      GraftException e = assertThrows(GraftException.class, () -> epoch(strict));
      assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    }
  }

  @Test
  void trainsARealNetwork() throws Exception {
    ImageDataset data = mnist();
    Split split = data.split(0.8, 1);
    ImageTransform t = ImageTransform.of(20, Preprocessing.unit());
    MultiLayerConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .seed(1)
            .updater(new Adam(3e-3))
            .list()
            .layer(
                new ConvolutionLayer.Builder(3, 3)
                    .stride(2, 2)
                    .nOut(16)
                    .activation(Activation.RELU)
                    .build())
            .layer(new GlobalPoolingLayer.Builder().build())
            .layer(
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nOut(10)
                    .activation(Activation.SOFTMAX)
                    .build())
            .setInputType(InputType.convolutional(20, 20, 3))
            .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    try (ImageBatches train =
            ImageBatches.builder(split.train(), t)
                .batchSize(32)
                .shuffle(7)
                .augmentation(Augmentation.none().withFlip(false).withRotation(5))
                .build();
        ImageBatches val = ImageBatches.builder(split.validation(), t).batchSize(32).build()) {
      DataSet first = val.next();
      val.reset();
      double before = net.score(first);
      net.fit(train, 3);
      assertTrue(train.epoch() >= 2, "DL4J reset the iterator between epochs: " + train.epoch());
      Evaluation eval = net.evaluate(val);
      assertEquals(40, eval.getNumRowCounter());
      // it learned from the batches: the held-out loss fell from the random start
      double after = net.score(first);
      assertTrue(after < before, "validation loss " + before + " -> " + after);
    }
  }

  @Test
  void badBuilderValuesNameTheValue() throws Exception {
    ImageDataset data = mnist();
    ImageTransform t = ImageTransform.of(8, Preprocessing.unit());
    GraftException e =
        assertThrows(GraftException.class, () -> ImageBatches.builder(data, t).batchSize(0));
    assertTrue(e.getMessage().contains("batch size must be >= 1, got 0"), e.getMessage());
    assertThrows(GraftException.class, () -> ImageBatches.builder(data, t).prefetch(0));
    assertThrows(GraftException.class, () -> ImageBatches.builder(data, t).threads(0));
    assertTrue(Files.isDirectory(ImageDatasetTest.MNIST));
  }
}
