package dev.graft.base.keras;

import static dev.graft.graph.Layers.unwrap;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test support: writes a DL4J graph's weights as a Keras 2 weights file ({@code
 * model.save_weights()}'s layout), so that tests exercise {@link KerasWeights#load} on real {@code
 * .h5} files they make themselves (ImageNet files cannot be downloaded here). It lives with the
 * tests because the library only reads Keras files.
 */
public final class KerasWeightsWriter {
  private static final Logger LOG = LoggerFactory.getLogger(KerasWeightsWriter.class);

  private KerasWeightsWriter() {}

  /**
   * Writes the graph's weights as a Keras weights file, with the groups, datasets and attributes
   * Keras 2's {@code model.save_weights()} writes, so that Keras (and {@link KerasWeights#load})
   * read it. The file appears atomically: it is written under a temporary name and then renamed.
   *
   * <p>Layers are named as in the graph (the zoo's ResNet stem, {@code stem-cnn1} and {@code
   * stem-batch1}, as Keras's {@code conv1} and {@code bn_conv1}); a batch normalisation gamma of
   * all ones is written as Keras's {@code scale=False} (no gamma).
   *
   * @throws GraftException a layer type Keras's format cannot express here
   * @throws IOException the file cannot be written
   */
  public static void save(ComputationGraph graph, Path h5) throws IOException {
    save(graph, h5, KerasNames::kerasName);
  }

  /** As {@link #save(ComputationGraph, Path)}, with the Keras name of each graph vertex given. */
  static void save(ComputationGraph graph, Path h5, UnaryOperator<String> kerasName)
      throws IOException {
    Objects.requireNonNull(graph, "graph");
    Path target = Objects.requireNonNull(h5, "h5").toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path part = Files.createTempFile(dir, target.getFileName() + ".", ".part");
    try {
      try (H5 file = H5.create(part)) {
        write(graph, file, kerasName);
      }
      Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      LOG.info(
          "Saved Keras weights of {} to {}", graph.getConfiguration().getNetworkOutputs(), target);
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /** One weight to write: Keras role and values in Keras's layout. */
  private record OutWeight(String role, INDArray values) {}

  private static void write(ComputationGraph graph, H5 file, UnaryOperator<String> kerasName) {
    GraphVertex[] vertices = graph.getVertices();
    List<String> names = new ArrayList<>();
    List<GraphVertex> ordered = new ArrayList<>();
    for (String in : graph.getConfiguration().getNetworkInputs()) {
      names.add(kerasName.apply(in));
      ordered.add(null);
    }
    for (int idx : graph.topologicalSortOrder()) {
      GraphVertex v = vertices[idx];
      if (v.isInputVertex()) {
        continue;
      }
      names.add(kerasName.apply(v.getVertexName()));
      ordered.add(v);
    }
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      if (!seen.add(n)) {
        throw new GraftException(
            "cannot save as Keras weights: two layers would be named '" + n + "'");
      }
    }
    writeChunked(file, "", "layer_names", names);
    file.writeRootString("backend", KerasWeights.BACKEND);
    file.writeRootString("keras_version", KerasWeights.KERAS_VERSION);
    for (int i = 0; i < names.size(); i++) {
      String kname = names.get(i);
      GraphVertex v = ordered.get(i);
      List<OutWeight> weights = v == null ? List.of() : weightsOf(graph, v, kname);
      file.createGroups(kname);
      List<String> weightNames = new ArrayList<>();
      for (OutWeight w : weights) {
        weightNames.add(kname + "/" + w.role() + ":0");
      }
      writeChunked(file, kname, "weight_names", weightNames);
      for (int j = 0; j < weights.size(); j++) {
        OutWeight w = weights.get(j);
        file.write(kname + "/" + weightNames.get(j), w.values());
      }
    }
  }

  /** As Keras's {@code save_attributes_to_hdf5_group}: split into name0, name1, … when large. */
  private static void writeChunked(H5 file, String group, String name, List<String> values) {
    int max = 1;
    for (String s : values) {
      max = Math.max(max, s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
    int chunks = 1;
    while ((long) Math.ceil(values.size() / (double) chunks) * max > H5.HDF5_OBJECT_HEADER_LIMIT) {
      chunks++;
    }
    if (chunks == 1) {
      file.writeStringList(group, name, values);
      return;
    }
    // numpy.array_split: the first (n % chunks) pieces get one more element
    int n = values.size();
    int base = n / chunks;
    int extra = n % chunks;
    int from = 0;
    for (int c = 0; c < chunks; c++) {
      int size = base + (c < extra ? 1 : 0);
      file.writeStringList(group, name + c, values.subList(from, from + size));
      from += size;
    }
  }

  private static float[] floats(INDArray a) {
    return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
  }

  private static List<OutWeight> weightsOf(ComputationGraph graph, GraphVertex v, String kname) {
    if (!v.hasLayer() || v.getLayer().numParams() == 0) {
      return List.of();
    }
    Layer layer = v.getLayer();
    org.deeplearning4j.nn.conf.layers.Layer conf = unwrap(layer.conf().getLayer());
    KerasWeights.Kind kind = KerasWeights.kindOf(conf);
    if (kind == null) {
      throw new GraftException(
          "cannot save layer '"
              + v.getVertexName()
              + "' ("
              + conf.getClass().getSimpleName()
              + ") as Keras weights: only convolution, depthwise convolution, dense and batch"
              + " normalisation layers");
    }
    List<OutWeight> out = new ArrayList<>();
    switch (kind) {
      case CONV -> {
        INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        INDArray k = w.permute(2, 3, 1, 0);
        out.add(new OutWeight(KerasWeights.KERNEL, k));
        INDArray b = layer.getParam(DefaultParamInitializer.BIAS_KEY);
        if (b != null) {
          out.add(new OutWeight(KerasWeights.BIAS, b.reshape(b.length())));
        }
      }
      case DEPTHWISE -> {
        out.add(
            new OutWeight(
                KerasWeights.DEPTHWISE_KERNEL, layer.getParam(DefaultParamInitializer.WEIGHT_KEY)));
        INDArray b = layer.getParam(DefaultParamInitializer.BIAS_KEY);
        if (b != null) {
          out.add(new OutWeight(KerasWeights.BIAS, b.reshape(b.length())));
        }
      }
      case DENSE -> {
        INDArray k = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        long[] f = KerasWeights.nchwFlatten(graph, v.getVertexName());
        if (f != null) {
          long outUnits = k.size(1);
          k =
              k.dup('c')
                  .reshape('c', f[2], f[0], f[1], outUnits)
                  .permute(1, 2, 0, 3)
                  .dup('c')
                  .reshape('c', f[0] * f[1] * f[2], outUnits);
        }
        out.add(new OutWeight(KerasWeights.KERNEL, k));
        INDArray b = layer.getParam(DefaultParamInitializer.BIAS_KEY);
        if (b != null) {
          out.add(new OutWeight(KerasWeights.BIAS, b.reshape(b.length())));
        }
      }
      case BATCH_NORM -> {
        BatchNormalization bn = (BatchNormalization) conf;
        long[] c = {bn.getNOut()};
        if (!bn.isLockGammaBeta()) {
          INDArray gamma = layer.getParam(BatchNormalizationParamInitializer.GAMMA);
          float[] g = floats(gamma);
          boolean ones = true;
          for (float x : g) {
            ones &= x == 1f;
          }
          if (!ones) {
            out.add(new OutWeight(KerasWeights.GAMMA, gamma.reshape(c)));
          }
          INDArray beta = layer.getParam(BatchNormalizationParamInitializer.BETA);
          out.add(new OutWeight(KerasWeights.BETA, beta.reshape(c)));
        }
        INDArray mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        out.add(new OutWeight(KerasWeights.MEAN, mean.reshape(c)));
        INDArray var;
        if (bn.isUseLogStd()) {
          INDArray log10std = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
          var =
              Transforms.pow(
                  Nd4j.valueArrayOf(log10std.shape(), 10.0, log10std.dataType()),
                  log10std.mul(2),
                  false);
        } else {
          var = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).dup();
        }
        // Keras will add its own epsilon; keep (var + eps) what this layer computes with.
        double shift = bn.getEps() - KerasNames.epsilon(kname);
        if (shift != 0) {
          var.addi(shift);
        }
        float[] values = floats(var);
        for (int i = 0; i < values.length; i++) {
          if (!(values[i] >= 0f)) {
            throw new GraftException(
                "cannot save batch normalisation layer '"
                    + v.getVertexName()
                    + "' as Keras weights:"
                    + " its variance "
                    + (values[i] - shift)
                    + " (channel "
                    + i
                    + ") with epsilon "
                    + bn.getEps()
                    + " cannot be expressed with Keras's epsilon "
                    + KerasNames.epsilon(kname));
          }
        }
        out.add(new OutWeight(KerasWeights.VARIANCE, var.reshape(c)));
      }
      default -> throw new IllegalStateException(kind.toString());
    }
    return out;
  }
}
