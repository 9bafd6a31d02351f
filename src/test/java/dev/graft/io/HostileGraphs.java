package dev.graft.io;

import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Networks of allowed layers with absurd sizes, for tests: each file is small and consistent (its
 * {@code coefficients.bin} holds exactly the parameters DL4J counts for its configuration), but
 * building or running it would take gigabytes.
 */
public final class HostileGraphs {
  /** Outputs of the wide 1x1 convolution. */
  public static final int WIDE = 100_000;

  /** The input size at which the wide network's activations are absurd (18 GiB per image). */
  public static final int WIDE_INPUT = 224;

  private HostileGraphs() {}

  /**
   * A DL4J zip whose dense layer {@code fc} declares {@code nIn} 2^62 and {@code nOut} 4: DL4J's
   * count of its parameters wraps around to 4, so the file holds 19 values in all.
   */
  public static Path overflowingDenseZip(Path dir) throws IOException {
    return zipOf(
        dir.resolve("overflow.zip"),
        graph(
            "fc",
            new DenseLayer.Builder().nIn(1L << 62).nOut(4).activation(Activation.RELU).build(),
            4));
  }

  /**
   * A DL4J zip whose convolution {@code conv} has a 100,000 x 1 kernel padded by 50,000: 300,000
   * parameters, but an im2col buffer of a gigabyte per 28 px image.
   */
  public static Path hugeKernelZip(Path dir) throws IOException {
    return zipOf(
        dir.resolve("kernel.zip"),
        graph(
            "conv",
            new ConvolutionLayer.Builder(100_000, 1)
                .padding(50_000, 0)
                .nIn(3)
                .nOut(1)
                .activation(Activation.RELU)
                .build(),
            1));
  }

  /**
   * A {@code .graft} at {@link #WIDE_INPUT} px whose first layer {@code wide} is a 1x1 convolution
   * with {@link #WIDE} outputs: 700 K parameters (a 3 MB file), 18 GiB of activations per image.
   */
  public static Path wideActivationGraft(Path dir) throws IOException {
    Path file = dir.resolve("wide.graft");
    ComputationGraph g = new ComputationGraph(wide());
    g.init();
    new TransferModel(g, TinyNets.info(HostileFiles.LABELS, WIDE_INPUT)).save(file);
    return file;
  }

  /** The wide network of {@link #wideActivationGraft} as a DL4J zip, for {@code --base}. */
  public static Path wideActivationZip(Path dir) throws IOException {
    Path file = dir.resolve("wide.zip");
    ComputationGraph g = new ComputationGraph(wide());
    g.init();
    ModelSerializer.writeModel(g, file.toFile(), false);
    return file;
  }

  /** {@code zip} (a DL4J zip) as the network of an otherwise good {@code .graft}. */
  public static Path graftOf(Path dir, Path zip) throws IOException {
    String name = zip.getFileName().toString().replace(".zip", ".graft");
    return HostileFiles.graftWith(dir, name, zip);
  }

  private static ComputationGraphConfiguration wide() {
    return graph(
        "wide",
        new ConvolutionLayer.Builder(1, 1).nIn(3).nOut(WIDE).activation(Activation.RELU).build(),
        WIDE);
  }

  /** input -> {@code name} (width {@code width}) -> global average -> softmax over 3. */
  private static ComputationGraphConfiguration graph(String name, Layer layer, int width) {
    boolean conv = layer instanceof ConvolutionLayer;
    var b =
        new NeuralNetConfiguration.Builder()
            .seed(1)
            .graphBuilder()
            .addInputs("input")
            .addLayer(name, layer, "input");
    String last = name;
    if (conv) {
      b.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), name);
      last = "gap";
    }
    return b.addLayer(
            "out",
            new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(width)
                .nOut(HostileFiles.LABELS.size())
                .activation(Activation.SOFTMAX)
                .build(),
            last)
        .setOutputs("out")
        .build();
  }

  /**
   * A DL4J zip of {@code conf} with as many zero parameters as DL4J counts for it, written as
   * {@code ModelSerializer} writes them; the network itself is never built.
   */
  private static Path zipOf(Path file, ComputationGraphConfiguration conf) throws IOException {
    long n = 0;
    for (GraphVertex v : conf.getVertices().values()) {
      n += v.numParams(true);
    }
    ByteArrayOutputStream params = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(params)) {
      Nd4j.write(Nd4j.zeros(DataType.FLOAT, 1, n), out);
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put(NetworkZip.CONFIGURATION, conf.toJson().getBytes(StandardCharsets.UTF_8));
    entries.put(NetworkZip.COEFFICIENTS, params.toByteArray());
    return HostileFiles.writeZip(file, entries);
  }
}
