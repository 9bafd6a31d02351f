package dev.graft.base;

import dev.graft.error.GraftException;
import dev.graft.io.NetworkZip;
import dev.graft.io.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Model files of bases: reading a DL4J ModelSerializer zip (graph or multi-layer network) safely,
 * and the SHA-256 fingerprint of a graph in memory that identifies it in provenance and caches.
 */
final class ModelZips {
  private ModelZips() {}

  /**
   * Reads a ModelSerializer zip holding a ComputationGraph or a MultiLayerNetwork, through the safe
   * reader ({@link NetworkZip}: no Java deserialization, allowlisted classes, bounded sizes).
   */
  static ComputationGraph loadZip(Path zip) throws IOException {
    if (!Files.isRegularFile(zip)) {
      throw new GraftException("no such model file: " + zip.toAbsolutePath());
    }
    return NetworkZip.read(zip);
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
    return Sha256.digest();
  }
}
