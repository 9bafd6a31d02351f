package dev.graft.base.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.base.Architecture;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MobileNetV2 and EfficientNetB0 from Keras {@code .h5} files the test writes: the file round trip
 * gives the same outputs, and one layer of each kind (convolution after {@code correct_pad},
 * depthwise convolution with 'same' and with asymmetric padding, batch normalisation with Keras's
 * epsilon, ReLU6, swish, squeeze-and-excitation) agrees with a plain-Java computation from the
 * values in the file, read back by DL4J's own Keras reader.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KerasMobileBasesTest {
  private static final int SIZE = 32;
  private static final double EPS = 1e-3; // Keras's BatchNormalization epsilon in both models

  private Path dir;
  private Path mobileH5;
  private Path efficientH5;
  private ComputationGraph mobileSource;
  private ComputationGraph efficientSource;
  private Base mobile;
  private Base efficient;
  private INDArray x;

  @BeforeAll
  void writeAndLoad(@TempDir Path tmp) throws IOException {
    dir = tmp;
    Nd4j.getRandom().setSeed(11);
    x = Nd4j.rand(DataType.FLOAT, 1, 3, SIZE, SIZE).muli(2).subi(1);
    mobileSource = Architecture.MOBILENET_V2.buildForKeras(SIZE, 3);
    randomiseBatchNorm(mobileSource);
    mobileH5 = dir.resolve("mobilenet_v2_random_no_top.h5");
    KerasWeightsWriter.save(mobileSource, mobileH5);
    mobile = Bases.mobilenetV2().weights(Weights.keras(mobileH5)).inputSize(SIZE).load();

    efficientSource = Architecture.EFFICIENTNET_B0.buildForKeras(SIZE, 4);
    randomiseBatchNorm(efficientSource);
    Path plain = dir.resolve("efficientnetb0_plain.h5");
    KerasWeightsWriter.save(efficientSource, plain);
    // Keras's published file: a Normalization layer holding ImageNet's mean and, as variance,
    // ImageNet's standard deviations
    efficientH5 = dir.resolve("efficientnetb0_random_notop.h5");
    withNormalization(
        plain,
        efficientH5,
        new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    efficient = Bases.efficientnetB0().weights(Weights.keras(efficientH5)).inputSize(SIZE).load();
  }

  /** Gamma, beta and the moving statistics away from their initial values; small variances. */
  private static void randomiseBatchNorm(ComputationGraph g) {
    for (Layer l : g.getLayers()) {
      if (l.conf().getLayer() instanceof BatchNormalization) {
        l.getParam("gamma")
            .assign(Nd4j.rand(DataType.FLOAT, l.getParam("gamma").shape()).muli(3).addi(0.5));
        l.getParam("beta").assign(Nd4j.randn(DataType.FLOAT, l.getParam("beta").shape()).muli(0.5));
        l.getParam("mean").assign(Nd4j.randn(DataType.FLOAT, l.getParam("mean").shape()).muli(0.1));
        // variances near Keras's epsilon, so that another epsilon would show
        l.getParam("var")
            .assign(Nd4j.rand(DataType.FLOAT, l.getParam("var").shape()).muli(0.05).addi(0.002));
      }
    }
  }

  @Test
  void roundTripThroughKerasFilesGivesTheSameOutputs() throws IOException {
    assertEquals(mobileSource.params(), mobile.graph().params());
    assertEquals(mobileSource.outputSingle(x), mobile.graph().outputSingle(x));
    assertEquals(efficientSource.params(), efficient.graph().params());
    assertEquals(efficientSource.outputSingle(x), efficient.graph().outputSingle(x));
    assertTrue(
        KerasWeights.layersWithWeights(mobileH5)
            .containsAll(
                List.of(
                    "Conv1",
                    "bn_Conv1",
                    "expanded_conv_depthwise",
                    "block_16_project_BN",
                    "Conv_1_bn")));
    assertTrue(
        KerasWeights.layersWithWeights(efficientH5)
            .containsAll(
                List.of(
                    "normalization",
                    "stem_conv",
                    "block1a_dwconv",
                    "block1a_se_reduce",
                    "block6d_se_expand",
                    "top_bn")));
    assertEquals(
        1e-3,
        ((BatchNormalization) mobile.graph().getLayer("bn_Conv1").conf().getLayer()).getEps());
    assertTrue(mobile.weightsKey().startsWith("keras:"), mobile.weightsKey());
  }

  @Test
  void mobileNetV2LayersMatchPlainJava() throws IOException {
    ComputationGraph g = mobile.graph();
    Map<String, INDArray> a = g.feedForward(x, false);
    try (Ref f = new Ref(mobileH5)) {
      // Conv1_pad (correct_pad of an even side: bottom and right only) + Conv1 3x3/2 valid
      INDArray conv = a.get("Conv1");
      assertArrayEquals(new long[] {1, 32, 16, 16}, conv.shape());
      assertClose(conv(x, f.get("Conv1", "kernel"), 2, 0, 0, 16), conv, "Conv1");
      // bn_Conv1: gamma, beta, moving statistics, epsilon 1e-3
      INDArray bn = activate(g, "bn_Conv1", conv);
      assertClose(batchNorm(conv, f, "bn_Conv1"), bn, "bn_Conv1");
      // Conv1_relu: ReLU6, some values above 6
      assertTrue(
          bn.amaxNumber().doubleValue() > 6 && bn.minNumber().doubleValue() < 0,
          "nothing for ReLU6 to clip");
      assertClose(map(bn, v -> Math.min(6, Math.max(0, v))), a.get("Conv1_relu"), "Conv1_relu");
      // expanded_conv_depthwise: 3x3/1 'same'
      assertClose(
          depthwise(
              a.get("Conv1_relu"),
              f.get("expanded_conv_depthwise", "depthwise_kernel"),
              1,
              1,
              1,
              16),
          a.get("expanded_conv_depthwise"),
          "expanded_conv_depthwise");
      // block_1_pad + block_1_depthwise: 3x3/2 after correct_pad
      assertClose(
          depthwise(
              a.get("block_1_expand_relu"),
              f.get("block_1_depthwise", "depthwise_kernel"),
              2,
              0,
              0,
              8),
          a.get("block_1_depthwise"),
          "block_1_depthwise");
      // block_2_add: the residual sum
      assertClose(
          a.get("block_1_project_BN").add(a.get("block_2_project_BN")),
          a.get("block_2_add"),
          "block_2_add");
    }
  }

  @Test
  void efficientNetB0LayersMatchPlainJava() throws IOException {
    ComputationGraph g = efficient.graph();
    Map<String, INDArray> a = g.feedForward(x, false);
    try (Ref f = new Ref(efficientH5)) {
      INDArray conv = a.get("stem_conv");
      assertClose(conv(x, f.get("stem_conv", "kernel"), 2, 0, 0, 16), conv, "stem_conv");
      INDArray bn = activate(g, "stem_bn", conv);
      assertClose(batchNorm(conv, f, "stem_bn"), bn, "stem_bn");
      assertClose(map(bn, v -> v / (1 + Math.exp(-v))), a.get("stem_activation"), "swish");

      // squeeze-and-excitation of block1a
      INDArray act = a.get("block1a_activation"); // [1, 32, 16, 16]
      INDArray k1 = f.get("block1a_se_reduce", "kernel"); // [1, 1, 32, 8]
      INDArray b1 = f.get("block1a_se_reduce", "bias");
      INDArray k2 = f.get("block1a_se_expand", "kernel"); // [1, 1, 8, 32]
      INDArray b2 = f.get("block1a_se_expand", "bias");
      int c = 32;
      int r = 8;
      double[] squeeze = new double[c];
      for (int ch = 0; ch < c; ch++) {
        squeeze[ch] =
            act.get(
                    org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(ch))
                .meanNumber()
                .doubleValue();
      }
      double[] reduced = new double[r];
      for (int o = 0; o < r; o++) {
        double s = b1.getDouble(o);
        for (int ch = 0; ch < c; ch++) {
          s += squeeze[ch] * k1.getDouble(0, 0, ch, o);
        }
        reduced[o] = s / (1 + Math.exp(-s));
      }
      INDArray want = Nd4j.create(DataType.DOUBLE, 1, c, 16, 16);
      for (int ch = 0; ch < c; ch++) {
        double s = b2.getDouble(ch);
        for (int o = 0; o < r; o++) {
          s += reduced[o] * k2.getDouble(0, 0, o, ch);
        }
        double e = 1 / (1 + Math.exp(-s));
        for (int y = 0; y < 16; y++) {
          for (int xx = 0; xx < 16; xx++) {
            want.putScalar(new int[] {0, ch, y, xx}, act.getDouble(0, ch, y, xx) * e);
          }
        }
      }
      assertClose(want, a.get("block1a_se_excite"), "block1a_se_excite");

      // block3a_dwconv_pad + block3a_dwconv: 5x5/2 after correct_pad (1 before, 2 after on 8 px)
      INDArray dw =
          depthwise(
              a.get("block3a_expand_activation"),
              f.get("block3a_dwconv", "depthwise_kernel"),
              2,
              1,
              1,
              4);
      assertClose(dw, a.get("block3a_dwconv"), "block3a_dwconv");
    }
  }

  @Test
  void efficientNetFileWithAnotherNormalizationIsRefused() throws IOException {
    Path plain = dir.resolve("efficientnetb0_plain_2.h5");
    KerasWeightsWriter.save(efficientSource, plain);
    Path identity = dir.resolve("efficientnetb0_identity_norm.h5");
    withNormalization(plain, identity, new float[] {0, 0, 0}, new float[] {1, 1, 1});
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> Bases.efficientnetB0().weights(Weights.keras(identity)).inputSize(SIZE).load());
    assertTrue(e.getMessage().contains("'normalization'"), e.getMessage());
    assertTrue(e.getMessage().contains(identity.toString()), e.getMessage());
    // the true variance (std squared) means the same normalisation as Keras's stored std
    Path squared = dir.resolve("efficientnetb0_variance_norm.h5");
    withNormalization(
        plain,
        squared,
        new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f * 0.229f, 0.224f * 0.224f, 0.225f * 0.225f});
    Base b = Bases.efficientnetB0().weights(Weights.keras(squared)).inputSize(SIZE).load();
    assertEquals(efficientSource.outputSingle(x), b.graph().outputSingle(x));
  }

  // ---------------------------------------------------------------------------------------------
  // plain Java

  /**
   * Convolution, kernel [kh, kw, in, out], zero padding {@code top}/{@code left}, square output.
   */
  private static INDArray conv(INDArray in, INDArray k, int stride, int top, int left, int side) {
    return convolve(in, k, stride, top, left, side, false);
  }

  /** Depthwise convolution, kernel [kh, kw, channels, 1]. */
  private static INDArray depthwise(
      INDArray in, INDArray k, int stride, int top, int left, int side) {
    return convolve(in, k, stride, top, left, side, true);
  }

  private static INDArray convolve(
      INDArray in, INDArray k, int stride, int top, int left, int side, boolean depthwise) {
    int kh = (int) k.size(0);
    int kw = (int) k.size(1);
    int cin = (int) k.size(2);
    int cout = depthwise ? cin : (int) k.size(3);
    long h = in.size(2);
    long w = in.size(3);
    INDArray out = Nd4j.create(DataType.DOUBLE, 1, cout, side, side);
    for (int o = 0; o < cout; o++) {
      for (int oy = 0; oy < side; oy++) {
        for (int ox = 0; ox < side; ox++) {
          double s = 0;
          for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
              int iy = oy * stride + ky - top;
              int ix = ox * stride + kx - left;
              if (iy < 0 || ix < 0 || iy >= h || ix >= w) {
                continue;
              }
              if (depthwise) {
                s += in.getDouble(0, o, iy, ix) * k.getDouble(ky, kx, o, 0);
              } else {
                for (int c = 0; c < cin; c++) {
                  s += in.getDouble(0, c, iy, ix) * k.getDouble(ky, kx, c, o);
                }
              }
            }
          }
          out.putScalar(new int[] {0, o, oy, ox}, s);
        }
      }
    }
    return out;
  }

  private static INDArray batchNorm(INDArray in, Ref f, String layer) {
    INDArray gamma = f.get(layer, "gamma");
    INDArray beta = f.get(layer, "beta");
    INDArray mean = f.get(layer, "moving_mean");
    INDArray var = f.get(layer, "moving_variance");
    INDArray out = Nd4j.create(DataType.DOUBLE, in.shape());
    for (int c = 0; c < in.size(1); c++) {
      double scale = gamma.getDouble(c) / Math.sqrt(var.getDouble(c) + EPS);
      for (int y = 0; y < in.size(2); y++) {
        for (int xx = 0; xx < in.size(3); xx++) {
          out.putScalar(
              new int[] {0, c, y, xx},
              (in.getDouble(0, c, y, xx) - mean.getDouble(c)) * scale + beta.getDouble(c));
        }
      }
    }
    return out;
  }

  private static INDArray map(INDArray in, java.util.function.DoubleUnaryOperator fn) {
    INDArray out = in.castTo(DataType.DOUBLE).dup();
    double[] v = out.data().asDouble();
    for (int i = 0; i < v.length; i++) {
      v[i] = fn.applyAsDouble(v[i]);
    }
    return Nd4j.create(v, out.shape());
  }

  /** Runs one layer on its own (activation layers after it work in place on the map's arrays). */
  private static INDArray activate(ComputationGraph g, String layer, INDArray in) {
    return g.getLayer(layer).activate(in.dup(), false, LayerWorkspaceMgr.noWorkspaces());
  }

  private static void assertClose(INDArray want, INDArray got, String what) {
    assertArrayEquals(want.shape(), got.shape(), what);
    double worst =
        want.castTo(DataType.DOUBLE).sub(got.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    double scale = Math.max(1, want.amaxNumber().doubleValue());
    assertTrue(worst <= 1e-4 * scale, what + ": largest difference " + worst);
  }

  /** The file's values as DL4J's own Keras import reads them: the reference for the checks. */
  private static final class Ref implements AutoCloseable {
    private final Hdf5Archive archive;

    Ref(Path h5) {
      archive = new Hdf5Archive(h5.toString());
    }

    INDArray get(String layer, String weight) {
      try {
        return archive.readDataSet(weight + ":0", layer, layer);
      } catch (
          org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException
              e) {
        throw new AssertionError(e);
      }
    }

    @Override
    public void close() {
      archive.close();
    }
  }

  /**
   * Copies a Keras weights file, adding after its input a Keras {@code Normalization} layer named
   * {@code normalization} with weights mean, variance and count, as Keras's EfficientNet files
   * hold.
   */
  static void withNormalization(Path from, Path to, float[] mean, float[] variance)
      throws IOException {
    try (H5 in = H5.openRead(from);
        H5 out = H5.create(to)) {
      List<String> names = new ArrayList<>(in.stringList("", "layer_names"));
      names.add(1, "normalization");
      out.writeStringList("", "layer_names", names);
      out.writeRootString("backend", in.rootString("backend"));
      out.writeRootString("keras_version", in.rootString("keras_version"));
      for (String n : names) {
        out.createGroups(n);
        if (n.equals("normalization")) {
          List<String> w =
              List.of("normalization/mean:0", "normalization/variance:0", "normalization/count:0");
          out.writeStringList(n, "weight_names", w);
          out.write(n + "/" + w.get(0), Nd4j.createFromArray(mean));
          out.write(n + "/" + w.get(1), Nd4j.createFromArray(variance));
          out.write(n + "/" + w.get(2), Nd4j.createFromArray(0f));
          continue;
        }
        List<String> weights = in.stringList(n, "weight_names");
        out.writeStringList(n, "weight_names", weights);
        for (String w : weights) {
          out.write(n + "/" + w, in.read(n + "/" + w));
        }
      }
    }
  }
}
