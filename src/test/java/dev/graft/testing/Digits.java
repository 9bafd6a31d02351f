package dev.graft.testing;

import dev.graft.demo.DemoData;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/** Real MNIST digits (the bundled demo set) as tensors for tests: [N, 3, s, s] in [0, 1]. */
public final class Digits {
  private static DemoData data;

  private Digits() {}

  /** The bundled digits, loaded once. */
  public static synchronized DemoData data() {
    if (data == null) {
      try {
        data = DemoData.load();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return data;
  }

  /**
   * {@code perClass} images of each digit in {@code digits}, from index {@code from} of each class,
   * labelled 0..k-1 in the order of {@code digits}, resized to {@code size} pixels.
   */
  public static DataSet tensors(List<Integer> digits, int from, int perClass, int size) {
    DemoData d = data();
    int n = digits.size() * perClass;
    float[] x = new float[n * 3 * size * size];
    float[] y = new float[n * digits.size()];
    int i = 0;
    // Interleave classes so that any prefix is balanced.
    for (int k = 0; k < perClass; k++) {
      for (int c = 0; c < digits.size(); c++) {
        BufferedImage img = resize(d.image(digits.get(c), from + k), size);
        int plane = size * size;
        for (int r = 0; r < size; r++) {
          for (int col = 0; col < size; col++) {
            float v = (img.getRGB(col, r) & 0xff) / 255f;
            int o = i * 3 * plane + r * size + col;
            x[o] = v;
            x[o + plane] = v;
            x[o + 2 * plane] = v;
          }
        }
        y[i * digits.size() + c] = 1;
        i++;
      }
    }
    return new DataSet(
        Nd4j.create(x, new long[] {n, 3, size, size}, 'c'),
        Nd4j.create(y, new long[] {n, digits.size()}, 'c'));
  }

  /** A resettable iterator over {@code ds} in fixed order. */
  public static DataSetIterator iterator(DataSet ds, int batch) {
    List<DataSet> list = new ArrayList<>(ds.asList());
    return new ListDataSetIterator<>(list, batch);
  }

  private static BufferedImage resize(BufferedImage src, int size) {
    if (src.getWidth() == size && src.getHeight() == size) {
      return src;
    }
    BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(src, 0, 0, size, size, null);
    g.dispose();
    return out;
  }

  /** Accuracy of {@code net} on image files, preprocessed as {@code p} at {@code size} pixels. */
  public static double accuracy(
      org.deeplearning4j.nn.graph.ComputationGraph net,
      dev.graft.data.ImageDataset data,
      int size,
      dev.graft.base.Preprocessing p) {
    dev.graft.data.ImageTransform t =
        new dev.graft.data.ImageTransform(size, dev.graft.data.ResizeMode.CENTER_CROP, p);
    List<org.nd4j.linalg.api.ndarray.INDArray> probs = new ArrayList<>();
    List<org.nd4j.linalg.api.ndarray.INDArray> labels = new ArrayList<>();
    try (dev.graft.data.ImageBatches b =
        dev.graft.data.ImageBatches.builder(data, t).batchSize(50).build()) {
      while (b.hasNext()) {
        var ds = b.next();
        probs.add(net.outputSingle(ds.getFeatures()));
        labels.add(ds.getLabels());
      }
    }
    return dev.graft.metrics.ClassificationReport.of(
            data.labels(),
            Nd4j.concat(0, labels.toArray(org.nd4j.linalg.api.ndarray.INDArray[]::new)),
            Nd4j.concat(0, probs.toArray(org.nd4j.linalg.api.ndarray.INDArray[]::new)))
        .accuracy();
  }

  /** Digits 0..4. */
  public static final List<Integer> LOW = List.of(0, 1, 2, 3, 4);

  /** Digits 5..9. */
  public static final List<Integer> HIGH = List.of(5, 6, 7, 8, 9);

  /** Class names of {@code digits}. */
  public static List<String> labels(List<Integer> digits) {
    return digits.stream().map(String::valueOf).toList();
  }
}
