package dev.graft.model;

import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.error.GraftException;
import dev.graft.metrics.ClassificationReport;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Test-time augmentation: each image is seen several ways (as is, mirrored left to right, and a
 * central crop of {@link #CROP} of its sides, mirrored too), and the class probabilities are
 * averaged. A thin layer over {@link
 * Predictor#probabilities(org.nd4j.linalg.api.ndarray.INDArray)}: the views go through the model's
 * own {@link ImageTransform} (resize mode, preprocessing), four to an image, in the predictor's
 * batches.
 *
 * <pre>{@code
 * try (Predictor p = model.predictor()) {
 *   float[][] probs = TestTimeAugmentation.standard().probabilities(p, files, null);
 * }
 * }</pre>
 *
 * <p>Costs four forward passes an image. Useful when the classes look the same mirrored (photos of
 * objects); for digits or text, a mirror is another image, so leave it off.
 */
public final class TestTimeAugmentation {
  /** Side fraction kept by the central-crop views. */
  public static final double CROP = 0.9;

  private static final TestTimeAugmentation STANDARD = new TestTimeAugmentation();

  private TestTimeAugmentation() {}

  /** Original, mirror, central crop, mirrored central crop. */
  public static TestTimeAugmentation standard() {
    return STANDARD;
  }

  /** Number of views per image. */
  public int views() {
    return 4;
  }

  /** The views of one decoded image, in a fixed order. */
  public List<BufferedImage> views(BufferedImage image) {
    BufferedImage rgb = ImageDecoder.toRgb(image);
    BufferedImage crop = centralCrop(rgb, CROP);
    return List.of(rgb, mirror(rgb), crop, mirror(crop));
  }

  /**
   * Averaged class probabilities for image files, in order ({@code [images][classes]}).
   *
   * @param progress called with the number of images done after each batch; may be null
   * @throws IOException naming the first file that cannot be read or decoded
   */
  public float[][] probabilities(Predictor predictor, List<Path> images, IntConsumer progress)
      throws IOException {
    int perBatch = Math.max(1, Predictor.DEFAULT_BATCH / views());
    float[][] out = new float[images.size()][];
    for (int from = 0; from < images.size(); from += perBatch) {
      int to = Math.min(images.size(), from + perBatch);
      List<BufferedImage> decoded = new ArrayList<>(to - from);
      for (Path p : images.subList(from, to)) {
        decoded.add(ImageDecoder.read(p));
      }
      float[][] probs = probabilitiesOfImages(predictor, decoded);
      System.arraycopy(probs, 0, out, from, probs.length);
      if (progress != null) {
        progress.accept(to);
      }
    }
    return out;
  }

  /** Averaged class probabilities for decoded images, in order ({@code [images][classes]}). */
  public float[][] probabilitiesOfImages(Predictor predictor, List<BufferedImage> images) {
    ImageTransform t = predictor.transform();
    int perBatch = Math.max(1, Predictor.DEFAULT_BATCH / views());
    float[][] out = new float[images.size()][];
    for (int from = 0; from < images.size(); from += perBatch) {
      int to = Math.min(images.size(), from + perBatch);
      List<BufferedImage> batch = new ArrayList<>((to - from) * views());
      for (BufferedImage img : images.subList(from, to)) {
        batch.addAll(views(img));
      }
      float[][] probs = predictor.probabilities(t.toBatch(batch));
      for (int i = from; i < to; i++) {
        out[i] = mean(probs, (i - from) * views(), views());
      }
    }
    return out;
  }

  /** Top-k predictions of decoded images with test-time augmentation, most probable first. */
  public List<List<Prediction>> predictImages(
      Predictor predictor, List<BufferedImage> images, int topK) {
    List<List<Prediction>> out = new ArrayList<>(images.size());
    for (float[] p : probabilitiesOfImages(predictor, images)) {
      out.add(predictor.topK(p, topK));
    }
    return out;
  }

  /**
   * Evaluates a model with test-time augmentation; the dataset's classes are matched to the model's
   * by name, as {@link TransferModel#evaluate} does.
   *
   * @throws GraftException naming a class the model does not know
   * @throws IOException naming an image that cannot be read
   */
  public ClassificationReport evaluate(
      TransferModel model, dev.graft.data.ImageDataset data, IntConsumer progress)
      throws IOException {
    LabelledFiles lf = LabelledFiles.of(data, model.labels());
    try (Predictor p = model.predictor()) {
      return ClassificationReport.of(
          model.labels(), lf.actual(), probabilities(p, lf.files(), progress));
    }
  }

  private static float[] mean(float[][] rows, int from, int n) {
    float[] m = new float[rows[from].length];
    for (int r = from; r < from + n; r++) {
      for (int c = 0; c < m.length; c++) {
        m[c] += rows[r][c] / n;
      }
    }
    return m;
  }

  static BufferedImage mirror(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w / 2; x++) {
        int t = row[x];
        row[x] = row[w - 1 - x];
        row[w - 1 - x] = t;
      }
      out.setRGB(0, y, w, 1, row, 0, w);
    }
    return out;
  }

  static BufferedImage centralCrop(BufferedImage img, double fraction) {
    int w = Math.max(1, (int) Math.round(img.getWidth() * fraction));
    int h = Math.max(1, (int) Math.round(img.getHeight() * fraction));
    return img.getSubimage((img.getWidth() - w) / 2, (img.getHeight() - h) / 2, w, h);
  }
}
