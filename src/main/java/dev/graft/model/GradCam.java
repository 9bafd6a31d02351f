package dev.graft.model;

import dev.graft.data.Augmentation;
import dev.graft.data.ImageTransform;
import dev.graft.error.GraftException;
import dev.graft.graph.Layers;
import java.awt.image.BufferedImage;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Grad-CAM heatmaps (Selvaraju et al., 2017) for models whose head is linear on the base's last
 * convolutional map: global average pooling then the softmax layer (the default heads), or the
 * flattened map then the softmax layer. For these heads the gradient of a class's logit with
 * respect to the map is the output layer's weights, so the map is exact and needs no backward pass:
 * {@code ReLU(sum_k w_kc A_k)} for pooling (each channel weighted by its class weight) and {@code
 * ReLU(sum_k w_kxyc A_kxy)} for flatten (each position's own contribution).
 *
 * <pre>{@code
 * GradCam.of(model).ifPresent(cam -> {
 *   GradCam.Map m = cam.map(image, classIndex);   // heat in [0, 1], the map's resolution
 * });
 * }</pre>
 *
 * <p>Heads with hidden layers are not covered ({@link #of} is empty for them).
 */
public final class GradCam {
  private static final String OUTPUT = "head_output";
  private static final String POOL = "head_pool";

  private final ComputationGraph net;
  private final ImageTransform transform;
  private final String mapLayer;
  private final boolean pooled;

  private GradCam(ComputationGraph net, ImageTransform transform, String mapLayer, boolean pooled) {
    this.net = net;
    this.transform = transform;
    this.mapLayer = mapLayer;
    this.pooled = pooled;
  }

  /**
   * A heatmap and the image it explains.
   *
   * @param heat {@code [h][w]} in [0, 1] (all zero when nothing speaks for the class)
   * @param input the network's input before preprocessing, as RGB pixels
   * @param classIndex the class explained
   */
  public record Heatmap(float[][] heat, BufferedImage input, int classIndex) {}

  /** Grad-CAM for {@code model}, or empty when its head is not linear on a convolutional map. */
  public static Optional<GradCam> of(TransferModel model) {
    ModelInfo info = model.info();
    return of(
        model.network(), new ImageTransform(info.inputSize(), info.resize(), info.preprocessing()));
  }

  /**
   * Grad-CAM for a network laid out as Graft assembles them ({@code head_output}, fed by {@code
   * head_pool} or by a convolutional map directly), or empty.
   */
  public static Optional<GradCam> of(ComputationGraph net, ImageTransform transform) {
    ComputationGraphConfiguration conf = net.getConfiguration();
    var inputs = conf.getVertexInputs().get(OUTPUT);
    if (inputs == null || inputs.size() != 1) {
      return Optional.empty();
    }
    String feed = inputs.get(0);
    // global pooling feeding the output: Graft's head_pool, or the base's own pooling at its cut
    // (ResNet50's avg_pool, for example); the map is what the pooling reads
    if (conf.getVertices().get(feed) instanceof LayerVertex lv
        && Layers.unwrap(lv.getLayerConf().getLayer()) instanceof GlobalPoolingLayer) {
      String map = conf.getVertexInputs().get(feed).get(0);
      return Optional.of(new GradCam(net, transform, map, true));
    }
    if (feed.startsWith("head_")) {
      return Optional.empty(); // a hidden layer in between
    }
    INDArray probe = Nd4j.zeros(DataType.FLOAT, 1, 3, transform.size(), transform.size());
    INDArray act = net.feedForward(new INDArray[] {probe}, false, false).get(feed);
    if (act == null || act.rank() != 4) {
      return Optional.empty();
    }
    return Optional.of(new GradCam(net, transform, feed, false));
  }

  /** The heatmap of {@code classIndex} for a decoded image. */
  public Heatmap map(BufferedImage image, int classIndex) {
    float[] rgb = transform.toRgbChw(image, Augmentation.none(), null);
    float[] chw = transform.toChw(image);
    int s = transform.size();
    INDArray x = Nd4j.create(chw, new long[] {1, 3, s, s});
    Map<String, INDArray> acts = net.feedForward(new INDArray[] {x}, false, false);
    INDArray a = acts.get(mapLayer).castTo(DataType.DOUBLE);
    INDArray w = net.getLayer(OUTPUT).getParam("W").castTo(DataType.DOUBLE);
    int k = (int) w.size(1);
    if (classIndex < 0 || classIndex >= k) {
      throw new GraftException("class index " + classIndex + " outside [0, " + k + ")");
    }
    int c = (int) a.size(1);
    int h = (int) a.size(2);
    int wd = (int) a.size(3);
    double[] col = w.getColumn(classIndex).toDoubleVector();
    double[][] am = a.reshape('c', c, (long) h * wd).toDoubleMatrix();
    float[][] heat = new float[h][wd];
    double max = 0;
    for (int y = 0; y < h; y++) {
      for (int xx = 0; xx < wd; xx++) {
        int pos = y * wd + xx;
        double v = 0;
        for (int ch = 0; ch < c; ch++) {
          double weight = pooled ? col[ch] : col[ch * h * wd + pos];
          v += weight * am[ch][pos];
        }
        v = Math.max(0, v);
        heat[y][xx] = (float) v;
        max = Math.max(max, v);
      }
    }
    if (max > 0) {
      for (float[] row : heat) {
        for (int i = 0; i < row.length; i++) {
          row[i] /= (float) max;
        }
      }
    }
    return new Heatmap(heat, toImage(rgb, s), classIndex);
  }

  private static BufferedImage toImage(float[] rgb, int s) {
    BufferedImage img = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
    int plane = s * s;
    for (int i = 0; i < plane; i++) {
      int r = Math.round(Math.max(0, Math.min(255, rgb[i])));
      int g = Math.round(Math.max(0, Math.min(255, rgb[plane + i])));
      int b = Math.round(Math.max(0, Math.min(255, rgb[2 * plane + i])));
      img.setRGB(i % s, i / s, r << 16 | g << 8 | b);
    }
    return img;
  }
}
