package dev.graft.base;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Model files of bases: reading a DL4J ModelSerializer zip (graph or multi-layer network) and the
 * SHA-256 fingerprints that identify a base's weights in provenance and caches.
 */
final class ModelZips {
  private ModelZips() {}

  /** Reads a ModelSerializer zip holding a ComputationGraph or a MultiLayerNetwork. */
  static ComputationGraph loadZip(Path zip) throws IOException {
    if (!Files.isRegularFile(zip)) {
      throw new GraftException("no such model file: " + zip.toAbsolutePath());
    }
    String json;
    try (ZipFile z = new ZipFile(zip.toFile())) {
      ZipEntry e = z.getEntry("configuration.json");
      if (e == null) {
        throw new GraftException(
            "not a DL4J model zip (no configuration.json): " + zip.toAbsolutePath());
      }
      try (InputStream in = z.getInputStream(e)) {
        json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (java.util.zip.ZipException e) {
      throw new GraftException(
          "not a zip file: " + zip.toAbsolutePath() + " (" + e.getMessage() + ")", e);
    }
    if (json.contains("\"vertices\"")) {
      return ModelSerializer.restoreComputationGraph(zip.toFile(), false);
    }
    MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);
    return net.toComputationGraph();
  }

  /** SHA-256 of a file, hex. */
  static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 of a graph's configuration and parameters, hex. */
  static String sha256(ComputationGraph graph) {
    MessageDigest md = sha256();
    md.update(graph.getConfiguration().toJson().getBytes(StandardCharsets.UTF_8));
    INDArray params = graph.params();
    if (params != null && params.length() > 0) {
      INDArray flat = params.isView() ? params.dup() : params;
      md.update(flat.data().asNio());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }
}
