package dev.graft.base;

import dev.graft.base.torch.StateDictMapping;
import dev.graft.error.GraftException;
import dev.graft.graph.ParameterTransfer;
import java.io.IOException;
import java.nio.file.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * One catalog graph being filled by a {@link Weights} variant ({@link Weights#loadInto}): the
 * architecture, the cut, the empty graph, and the loading steps the variants share (fetching and
 * verifying a file against the builder's pinned SHA-256, reading a DL4J zip or a Keras file). Made
 * by {@link BaseBuilder#load()} only.
 */
public final class WeightLoading {
  private final BaseBuilder builder;
  private final Architecture architecture;
  private final String cut;
  private final ComputationGraph graph;

  WeightLoading(
      BaseBuilder builder, Architecture architecture, String cut, ComputationGraph graph) {
    this.builder = builder;
    this.architecture = architecture;
    this.cut = cut;
    this.graph = graph;
  }

  /**
   * A graph with its weights, the weights' provenance key and the SHA-256 of their file.
   *
   * @param graph the filled graph
   * @param key e.g. {@code "imagenet:adler32=3501732770"}, {@code "file:<sha256>"}
   * @param sha256 the SHA-256 of the file read, or null when none was
   */
  public record Loaded(ComputationGraph graph, String key, String sha256) {}

  /** The architecture whose graph is filled. */
  Architecture architecture() {
    return architecture;
  }

  /** Random initialisation (the graph was made with random parameters): nothing to read. */
  Loaded random() {
    if (builder.pinned()) {
      throw new GraftException("a SHA-256 was pinned but weights(none) reads no file");
    }
    return new Loaded(graph, "none:seed=" + builder.randomSeed(), null);
  }

  /** A DL4J zip: verified, its parameters fitted into the graph. */
  Loaded dl4jZip(Path zip) throws IOException {
    String sha256 = builder.verifyZip(zip);
    ComputationGraph g =
        ParameterTransfer.fit(
            ModelZips.loadZip(zip), graph, "weights file " + zip.toAbsolutePath());
    return new Loaded(g, "file:" + sha256, sha256);
  }

  /** A published DL4J zoo file: fetched into the cache, Adler32- and pin-verified, fitted. */
  Loaded zoo(PretrainedFile file) throws IOException {
    Path local =
        file.fetch(builder.resolveBaseUrl(), builder.resolveCacheDir(), builder.resolveOffline());
    String sha256 = builder.verifyPinned(local);
    ComputationGraph g =
        ParameterTransfer.fit(ModelZips.loadZip(local), graph, "ImageNet weights " + local);
    return new Loaded(g, "imagenet:adler32=" + file.adler32(), sha256);
  }

  /** Keras Applications' published ImageNet {@code .h5} file of the architecture. */
  Loaded kerasImagenet() throws IOException {
    return builder.loadKerasImagenet(architecture, cut, graph);
  }

  /** A Keras {@code .h5} file of your own, by layer name. */
  Loaded keras(Path h5) throws IOException {
    String sha256 = builder.verifyPinned(h5);
    builder.loadKeras(architecture, graph, h5);
    return new Loaded(graph, "keras:" + sha256, sha256);
  }

  /**
   * A PyTorch state dict in a {@code .safetensors} file: verified, every name and shape checked
   * against the architecture's {@code StateDictMapping} before any tensor is read.
   */
  Loaded safetensors(Path file) throws IOException {
    StateDictMapping mapping = stateDictMapping(file);
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw new GraftException("no such weights file: " + file.toAbsolutePath());
    }
    String sha256 = builder.verifyPinned(file);
    mapping.load(graph, file);
    return new Loaded(graph, "safetensors:" + sha256, sha256);
  }

  /**
   * A publisher's {@code .safetensors} file on the Hugging Face Hub: fetched into the cache,
   * verified against its pinned SHA-256 (and the builder's pin), then read as {@link
   * #safetensors(Path)} reads a local file.
   */
  Loaded hub(HubFile file) throws IOException {
    StateDictMapping mapping = stateDictMapping(file.toString());
    Path local;
    try {
      local =
          file.fetch(
              HubFile.baseUrl(builder.explicitBaseUrl()),
              builder.resolveCacheDir(),
              builder.resolveOffline());
    } catch (GraftException e) {
      throw new GraftException(
          e.getMessage()
              + "; or download it yourself and pass it as weights (--weights FILE.safetensors)",
          e);
    }
    String sha256 = builder.verifyPinned(local);
    mapping.load(graph, local);
    return new Loaded(graph, "imagenet:sha256=" + file.sha256(), sha256);
  }

  private StateDictMapping stateDictMapping(Object file) {
    return architecture
        .stateDictMapping()
        .orElseThrow(
            () ->
                new GraftException(
                    architecture.id()
                        + " takes DL4J or Keras weights, not a PyTorch state dict ("
                        + file
                        + ")"));
  }

  /**
   * The refusal for {@code .imagenet()} on a base whose ImageNet weights Graft does not download:
   * it names the file to bring and the flag to pass.
   */
  GraftException noImagenetDownload() {
    return new GraftException(
        architecture.id()
            + " has no ImageNet download in Graft; download "
            + architecture.stateDictFile().orElse("the publisher's .safetensors file")
            + " and pass it as weights (--weights FILE.safetensors)");
  }
}
