package dev.graft.model;

import dev.graft.data.Augmentation;
import dev.graft.data.ImageTransform;
import dev.graft.error.GraftException;
import dev.graft.graph.Layers;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Grad-CAM heatmaps (Selvaraju et al., 2017) for models whose head reads the base's last
 * convolutional map: global pooling or the flattened map, then any number of dense layers, then the
 * softmax layer (every head Graft builds). The gradient of a class's logit with respect to the map
 * is computed exactly by a backward pass through the head's dense layers (each activation's own
 * derivative), with no change to the network:
 *
 * <ul>
 *   <li>pooled heads: {@code ReLU(sum_k alpha_k A_k)}, each channel weighted by its mean gradient
 *       (the original Grad-CAM);
 *   <li>flatten heads: {@code ReLU(sum_k G_kxy A_kxy)}, each position's own gradient times its
 *       activation (the map's positions have their own weights there, so averaging them away would
 *       lose where the head looks).
 * </ul>
 *
 * <p>For a head with no hidden layer the gradient is the output layer's weights.
 *
 * <pre>{@code
 * GradCam.of(model).ifPresent(cam -> {
 *   GradCam.Heatmap m = cam.map(image, classIndex);   // heat in [0, 1], the map's resolution
 * });
 * }</pre>
 */
public final class GradCam {
  private final ComputationGraph net;
  private final String output;
  private final ImageTransform transform;
  private final String mapLayer;
  private final boolean pooled;
  private final List<String> dense; // the hidden dense layers, from the map up

  private GradCam(
      ComputationGraph net,
      String output,
      ImageTransform transform,
      String mapLayer,
      boolean pooled,
      List<String> dense) {
    this.net = net;
    this.output = output;
    this.transform = transform;
    this.mapLayer = mapLayer;
    this.pooled = pooled;
    this.dense = List.copyOf(dense);
  }

  /**
   * A heatmap and the image it explains.
   *
   * @param heat {@code [h][w]} in [0, 1] (all zero when nothing speaks for the class)
   * @param input the network's input before preprocessing, as RGB pixels
   * @param classIndex the class explained
   */
  public record Heatmap(float[][] heat, BufferedImage input, int classIndex) {}

  /** Grad-CAM for {@code model}, or empty when its head does not read a convolutional map. */
  public static Optional<GradCam> of(TransferModel model) {
    ModelInfo info = model.info();
    return of(
        model.network(), new ImageTransform(info.inputSize(), info.resize(), info.preprocessing()));
  }

  /**
   * Grad-CAM for a network with one output layer fed, through dense layers if any, by a global
   * pooling or by a convolutional map directly (as Graft assembles them), or empty.
   */
  public static Optional<GradCam> of(ComputationGraph net, ImageTransform transform) {
    ComputationGraphConfiguration conf = net.getConfiguration();
    if (conf.getNetworkOutputs().size() != 1) {
      return Optional.empty();
    }
    String output = conf.getNetworkOutputs().get(0);
    if (!(layer(conf, output) instanceof OutputLayer)) {
      return Optional.empty();
    }
    String feed = singleInput(conf, output);
    List<String> dense = new ArrayList<>();
    while (feed != null && layer(conf, feed) instanceof DenseLayer) {
      dense.add(0, feed);
      feed = singleInput(conf, feed);
    }
    if (feed == null) {
      return Optional.empty();
    }
    // global pooling under the head: Graft's head_pool, or the base's own pooling at its cut
    // (ResNet50's avg_pool, for example); the map is what the pooling reads
    if (layer(conf, feed) instanceof GlobalPoolingLayer) {
      String map = singleInput(conf, feed);
      return map == null
          ? Optional.empty()
          : Optional.of(new GradCam(net, output, transform, map, true, dense));
    }
    INDArray probe = Nd4j.zeros(DataType.FLOAT, 1, 3, transform.size(), transform.size());
    INDArray act = net.feedForward(new INDArray[] {probe}, false, false).get(feed);
    if (act == null || act.rank() != 4) {
      return Optional.empty();
    }
    return Optional.of(new GradCam(net, output, transform, feed, false, dense));
  }

  private static String singleInput(ComputationGraphConfiguration conf, String vertex) {
    List<String> in = conf.getVertexInputs().get(vertex);
    return in == null || in.size() != 1 ? null : in.get(0);
  }

  private static Layer layer(ComputationGraphConfiguration conf, String vertex) {
    return conf.getVertices().get(vertex) instanceof LayerVertex lv
        ? Layers.unwrap(lv.getLayerConf().getLayer())
        : null;
  }

  /** The heatmap of {@code classIndex} for a decoded image. */
  public Heatmap map(BufferedImage image, int classIndex) {
    float[] rgb = transform.toRgbChw(image, Augmentation.none(), null);
    int s = transform.size();
    INDArray x = Nd4j.create(transform.toChw(image), new long[] {1, 3, s, s});
    Map<String, INDArray> acts = net.feedForward(new INDArray[] {x}, false, false);
    INDArray a = acts.get(mapLayer).castTo(DataType.DOUBLE);
    int c = (int) a.size(1);
    int h = (int) a.size(2);
    int wd = (int) a.size(3);
    double[][] am = a.reshape('c', c, (long) h * wd).toDoubleMatrix();
    double[][] g = mapGradient(acts, classIndex, c, h * wd);
    float[][] heat = new float[h][wd];
    double max = 0;
    for (int y = 0; y < h; y++) {
      for (int xx = 0; xx < wd; xx++) {
        int pos = y * wd + xx;
        double v = 0;
        for (int ch = 0; ch < c; ch++) {
          v += g[ch][pooled ? 0 : pos] * am[ch][pos];
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

  /**
   * The gradient of the class's logit with respect to the map, {@code [channels][positions]}: for a
   * pooled head one column, each channel's gradient with respect to its pooled value (its mean
   * gradient over the positions times their count, a common factor the normalisation removes).
   */
  double[][] mapGradient(Map<String, INDArray> acts, int classIndex, int channels, int positions) {
    INDArray wOut = net.getLayer(output).getParam("W").castTo(DataType.DOUBLE);
    int k = (int) wOut.size(1);
    if (classIndex < 0 || classIndex >= k) {
      throw new GraftException("class index " + classIndex + " outside [0, " + k + ")");
    }
    // d logit / d (output layer's input) is the class's column of W
    INDArray eps = wOut.getColumn(classIndex).reshape(1, wOut.size(0)).dup();
    for (int i = dense.size() - 1; i >= 0; i--) {
      String name = dense.get(i);
      var layer = net.getLayer(name);
      INDArray in = acts.get(i == 0 ? inputOfFirstDense() : dense.get(i - 1));
      in = in.castTo(DataType.DOUBLE).reshape('c', 1, in.length());
      INDArray w = layer.getParam("W").castTo(DataType.DOUBLE);
      INDArray z = in.mmul(w);
      INDArray bias = layer.getParam("b");
      if (bias != null) {
        z.addiRowVector(bias.castTo(DataType.DOUBLE));
      }
      IActivation fn = ((BaseLayer) Layers.unwrap(layer.conf().getLayer())).getActivationFn();
      INDArray dz = fn.backprop(z, eps).getFirst();
      eps = dz.mmul(w.transpose());
    }
    double[] flat = eps.toDoubleVector();
    int cols = pooled ? 1 : positions;
    if (flat.length != (long) channels * cols) {
      throw new IllegalStateException(
          "head input of " + flat.length + " values, map of " + channels + " x " + cols);
    }
    double[][] g = new double[channels][cols];
    for (int ch = 0; ch < channels; ch++) {
      System.arraycopy(flat, ch * cols, g[ch], 0, cols);
    }
    return g;
  }

  /** What the first hidden layer reads: the pooled vector, or the map itself (flattened). */
  private String inputOfFirstDense() {
    return net.getConfiguration().getVertexInputs().get(dense.get(0)).get(0);
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
