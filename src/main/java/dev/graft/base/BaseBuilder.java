package dev.graft.base;

import dev.graft.base.BaseSettingException.Setting;
import dev.graft.base.keras.KerasImagenet;
import dev.graft.base.keras.KerasWeights;
import dev.graft.error.GraftException;
import dev.graft.graph.Topology;
import dev.graft.graph.Truncation;
import dev.graft.io.Downloader;
import dev.graft.io.LayerSizes;
import dev.graft.io.NetworkZip;
import dev.graft.io.Sha256;
import dev.graft.perf.NativeTuning;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import org.deeplearning4j.common.resources.DL4JResources;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Configures and loads a {@link Base}. Everything is optional; a catalog base defaults to its
 * ImageNet weights, input size, preprocessing and feature layer.
 *
 * <pre>{@code
 * Base base = Bases.vgg16()
 *     .imagenet()                      // or weights(Weights.none()), weights(Weights.file(zip))
 *     .inputSize(160)
 *     .cacheDir(Path.of("/data/graft-cache"))
 *     .offline(true)                   // fail instead of downloading
 *     .load();
 * }</pre>
 *
 * <p>Settings read from the environment when not set here: cache directory from the system property
 * {@value #CACHE_DIR_PROPERTY}, then {@code GRAFT_CACHE_DIR}, then {@code ~/.graft/cache}; offline
 * mode from {@value #OFFLINE_PROPERTY}{@code =true} or {@code GRAFT_OFFLINE=1}; the ImageNet
 * download base URL from {@value #BASE_URL_PROPERTY}, then {@code GRAFT_IMAGENET_BASE_URL}, then
 * DL4J's own ({@code https://dl4jdata.blob.core.windows.net/}).
 *
 * <p>Why one class of this size: it is the one place where the catalog, a file and a graph in
 * memory become a {@link Base}, and every failure there is blamed on one setting ({@link
 * BaseSettingException}).
 */
public final class BaseBuilder {
  /** System property naming the weights cache directory. */
  public static final String CACHE_DIR_PROPERTY = "graft.cache.dir";

  /** System property turning offline mode on ({@code true}). */
  public static final String OFFLINE_PROPERTY = Downloader.OFFLINE_PROPERTY;

  /** System property giving the base URL ImageNet weight files are downloaded from. */
  public static final String BASE_URL_PROPERTY = "graft.imagenet.baseUrl";

  /** The seed used unless {@link #seed(long)} says otherwise. */
  public static final long DEFAULT_SEED = 42L;

  private static final Logger LOG = LoggerFactory.getLogger(BaseBuilder.class);

  private final Architecture architecture;
  private final Path customZip;
  private final String customName;
  private final ComputationGraph customGraph;
  private Weights weights;
  private Integer inputSize;
  private Preprocessing preprocessing;
  private String cut;
  private long seed = DEFAULT_SEED;
  private Path cacheDir;
  private Boolean offline;
  private String baseUrl;
  private String weightsSha256;

  BaseBuilder(Architecture architecture) {
    this.architecture = architecture;
    this.customZip = null;
    this.customName = null;
    this.customGraph = null;
  }

  BaseBuilder(Path zip) {
    this.architecture = null;
    this.customZip = zip;
    this.customName = null;
    this.customGraph = null;
  }

  BaseBuilder(String name, ComputationGraph graph) {
    this.architecture = null;
    this.customZip = null;
    this.customName = name;
    this.customGraph = graph;
  }

  /** Where the weights come from (catalog bases only; default {@link Weights#imagenet()}). */
  public BaseBuilder weights(Weights w) {
    this.weights = Objects.requireNonNull(w, "weights");
    return this;
  }

  /** Shorthand for {@code weights(Weights.imagenet())}. */
  public BaseBuilder imagenet() {
    return weights(Weights.imagenet());
  }

  /** The square input side in pixels (catalog: at least the architecture's minimum). */
  public BaseBuilder inputSize(int px) {
    if (px <= 0 || px > Base.MAX_INPUT_SIZE) {
      throw new GraftException("input size must be in [1, " + Base.MAX_INPUT_SIZE + "], got " + px);
    }
    if (architecture != null) {
      architecture.checkInputSize(px);
    }
    this.inputSize = px;
    return this;
  }

  /**
   * Overrides the preprocessing (for a base of your own; a catalog base's weights expect theirs).
   */
  public BaseBuilder preprocessing(Preprocessing p) {
    this.preprocessing = Objects.requireNonNull(p, "preprocessing");
    return this;
  }

  /** The layer to cut at: its output becomes the base's output and feature layer. */
  public BaseBuilder cut(String layerName) {
    if (layerName == null || layerName.isBlank()) {
      throw new GraftException("cut needs a layer name, got '" + layerName + "'");
    }
    this.cut = layerName;
    return this;
  }

  /** Seed of the random initialisation (and of any layer left unloaded). */
  public BaseBuilder seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** Directory holding downloaded weight files. */
  public BaseBuilder cacheDir(Path dir) {
    this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
    return this;
  }

  /** When set, never opens a connection: missing weight files are an error naming the file. */
  public BaseBuilder offline(boolean offline) {
    this.offline = offline;
    return this;
  }

  /** Base URL ImageNet weight files are downloaded from (a mirror, or a test server). */
  public BaseBuilder imagenetBaseUrl(String url) {
    this.baseUrl = Objects.requireNonNull(url, "url");
    return this;
  }

  /**
   * Pins the SHA-256 of the weights file: the DL4J zip or Keras {@code .h5} given as weights, the
   * downloaded ImageNet file, or the zip of a base of your own. The file is checked before it is
   * read; a mismatch throws a {@link dev.graft.io.RefusedFileException} naming the file, the pinned
   * and the actual digest. The digest of every weights file loaded is recorded anyway ({@link
   * Base#weightsSha256()}).
   *
   * @param hex 64 hex digits
   */
  public BaseBuilder weightsSha256(String hex) {
    this.weightsSha256 = Sha256.parse(hex);
    return this;
  }

  /**
   * Builds the graph and loads the weights.
   *
   * @throws GraftException on impossible settings (echoing the value) or offline with weights
   *     missing from the cache
   * @throws IOException reading or downloading weights failed, or a checksum did not match
   */
  public Base load() throws IOException {
    NativeTuning.apply(); // once, before ND4J loads (no-op afterwards): native build for this CPU
    return architecture != null ? loadCatalog() : loadCustom();
  }

  private Base loadCatalog() throws IOException {
    Architecture a = architecture;
    int size = inputSize != null ? inputSize : a.defaultInputSize();
    String cutAt = cut != null ? cut : a.featureLayer();
    Weights w = weights != null ? weights : Weights.imagenet();
    // Keras weights need Keras's graph (ResNet50: pool1_pad); the zoo's keep the zoo's layout.
    boolean kerasLayout = w.kerasLayout(a);
    ComputationGraphConfiguration full =
        blame(
            Setting.INPUT_SIZE, () -> a.configuration(size, seed, a.needsTop(cutAt), kerasLayout));
    if (!full.getVertices().containsKey(cutAt)) {
      throw blame(
          Setting.CUT,
          "no layer '"
              + cutAt
              + "' in "
              + a.id()
              + " (cut points: "
              + String.join(", ", a.cutPoints())
              + ")");
    }
    ComputationGraphConfiguration conf = Truncation.truncate(full, cutAt);
    // Every source below fills every layer of the graph or fails (DL4J zips by transferParams,
    // Keras files by KerasWeights' exact match), so only random init needs random numbers;
    // zeros are much faster to make.
    ComputationGraph fresh = Truncation.newGraph(conf, w.randomInit());
    WeightLoading.Loaded loaded =
        blame(Setting.WEIGHTS, () -> w.loadInto(new WeightLoading(this, a, cutAt, fresh)));
    ComputationGraph graph = loaded.graph();
    String key = loaded.key();
    ComputationGraph cutGraph = graph;
    List<String> cuts = new ArrayList<>(List.of(cutAt));
    for (String c : a.cutPoints()) {
      if (!cuts.contains(c)) {
        cuts.add(c);
      }
    }
    Base base =
        new Base(
            a.id(),
            cutGraph,
            Architecture.INPUT,
            size,
            3,
            preprocessing != null ? preprocessing : a.preprocessing(),
            cutAt,
            cuts,
            GraphFacts.blocks(cutGraph, a.blockEnds()),
            key,
            loaded.sha256(),
            a,
            true);
    LOG.info("Loaded {}", base);
    return base;
  }

  private Base loadCustom() throws IOException {
    if (weights != null) {
      throw blame(
          Setting.WEIGHTS,
          "a base of your own brings its weights; weights("
              + weights
              + ") applies to catalog bases only");
    }
    ComputationGraph graph;
    String id;
    String key;
    String sha256 = null;
    if (customZip != null) {
      sha256 = blame(Setting.BASE, () -> verifyZip(customZip));
      graph = blame(Setting.BASE, () -> ModelZips.loadZip(customZip));
      String file = customZip.getFileName().toString();
      id =
          file.toLowerCase(Locale.ROOT).endsWith(".zip")
              ? file.substring(0, file.length() - 4)
              : file;
      key = "file:" + sha256;
    } else {
      if (weightsSha256 != null) {
        throw blame(Setting.WEIGHTS, "a SHA-256 was pinned but a graph in memory has no file");
      }
      graph = customGraph;
      id = customName;
      key = "graph:" + ModelZips.sha256(customGraph);
    }
    String what =
        customZip != null ? "model file " + customZip.toAbsolutePath() : "graph '" + id + "'";
    ComputationGraph g = graph;
    String input = blame(Setting.BASE, () -> GraphFacts.inputName(g, what));
    String cutAt = cut != null ? cut : blame(Setting.BASE, () -> GraphFacts.defaultCut(g, what));
    if (!graph.getConfiguration().getVertices().containsKey(cutAt) || cutAt.equals(input)) {
      throw blame(
          Setting.CUT,
          "no layer '"
              + cutAt
              + "' in "
              + what
              + " (layers: "
              + String.join(", ", Topology.runtimeOrder(graph))
              + ")");
    }
    int size;
    if (inputSize != null) {
      size = inputSize;
    } else {
      OptionalInt declared = GraphFacts.declaredInputSize(graph);
      if (declared.isEmpty()) {
        throw blame(
            Setting.INPUT_SIZE,
            what
                + " declares no input size (it is fully convolutional); set one with inputSize(px)");
      }
      size = declared.getAsInt();
    }
    int channels = GraphFacts.inputChannels(graph).orElse(3);
    if (channels != 3) {
      LOG.warn("{} reads {} channel(s); Graft's image pipeline produces 3 (RGB)", what, channels);
    }
    ComputationGraph cutGraph = Truncation.truncate(graph, cutAt);
    if (customZip != null) {
      // Before any forward pass: each layer's activations at this input size must fit.
      LayerSizes.checkActivations(
          cutGraph.getConfiguration(),
          InputType.convolutional(size, size, channels),
          customZip,
          NetworkZip.CONFIGURATION);
    }
    Base base =
        new Base(
            id,
            cutGraph,
            input,
            size,
            channels,
            preprocessing != null ? preprocessing : Preprocessing.unit(),
            cutAt,
            List.of(cutAt),
            GraphFacts.blocksPerLayer(cutGraph),
            key,
            sha256,
            null,
            // a graph passed in stays its caller's unless the cut made a new one
            customZip != null || cutGraph != customGraph);
    LOG.info("Loaded {}", base);
    return base;
  }

  /** The SHA-256 of a weights file, checked against the pin when there is one. */
  String verifyPinned(Path file) throws IOException {
    return Sha256.verify(file, weightsSha256);
  }

  /** Whether a SHA-256 of the weights file was pinned. */
  boolean pinned() {
    return weightsSha256 != null;
  }

  /** The seed random initialisation draws from. */
  long randomSeed() {
    return seed;
  }

  /** The SHA-256 of a DL4J zip, checked against the pin; a missing file is a GraftException. */
  String verifyZip(Path zip) throws IOException {
    if (!java.nio.file.Files.isRegularFile(zip)) {
      throw new GraftException("no such model file: " + zip.toAbsolutePath());
    }
    return Sha256.verify(zip, weightsSha256);
  }

  /** A step of loading that may fail on bad input. */
  @FunctionalInterface
  private interface Step<T> {
    T run() throws IOException;
  }

  /** Runs {@code step}, blaming {@code setting} for a {@link GraftException} it throws. */
  private static <T> T blame(Setting setting, Step<T> step) throws IOException {
    try {
      return step.run();
    } catch (BaseSettingException e) {
      throw e;
    } catch (GraftException e) {
      throw new BaseSettingException(setting, e);
    }
  }

  private static BaseSettingException blame(Setting setting, String message) {
    return new BaseSettingException(setting, new GraftException(message));
  }

  /** Keras Applications' ImageNet file of {@code a}: fetched, MD5-verified, pinned, loaded. */
  WeightLoading.Loaded loadKerasImagenet(Architecture a, String cutAt, ComputationGraph graph)
      throws IOException {
    KerasImagenet.KerasWeightFile h5 =
        a.kerasImagenetFile(a.needsTop(cutAt))
            .orElseThrow(
                () ->
                    new GraftException(
                        "Keras publishes no ImageNet weights Graft knows for '" + a.id() + "'"));
    Path local =
        KerasImagenet.fetch(
            h5, KerasImagenet.baseUrl(baseUrl), resolveCacheDir(), resolveOffline());
    String sha256 = Sha256.verify(local, weightsSha256);
    loadKeras(a, graph, local);
    return new WeightLoading.Loaded(graph, "imagenet:md5=" + h5.md5(), sha256);
  }

  /** Keras .h5 weights, by layer name (a classifier top in the file is skipped). */
  void loadKeras(Architecture a, ComputationGraph graph, Path h5) throws IOException {
    KerasWeights.load(graph, h5);
    checkInputNormalization(a, h5);
  }

  /**
   * A Keras model that normalises its input inside ({@code Normalization}, EfficientNet) must
   * normalise as the base's preprocessing does, which stands in for it. Keras's ImageNet files
   * store ImageNet's standard deviations as the variance and Keras's model divides once more by
   * their square roots (tensorflow/tensorflow#49930), so a stored variance equal to the std and one
   * equal to its square both mean "divide by the std".
   */
  private void checkInputNormalization(Architecture a, Path h5) throws IOException {
    var found = KerasWeights.inputNormalization(h5);
    if (found.isEmpty()) {
      return;
    }
    KerasWeights.InputNormalization n = found.get();
    Preprocessing p = preprocessing != null ? preprocessing : a.preprocessing();
    boolean same = Math.abs(p.scale() - 1f / 255f) < 1e-7f && n.mean().length == 3;
    for (int c = 0; same && c < 3; c++) {
      float std = p.std()[c];
      float var = n.variance()[c];
      same =
          Math.abs(n.mean()[c] - p.mean()[c]) < 1e-4f
              && (Math.abs(var - std) < 1e-4f || Math.abs(var - std * std) < 1e-4f);
    }
    if (!same) {
      throw new GraftException(
          "Keras weights file "
              + h5
              + ": its Normalization layer '"
              + n.layer()
              + "' holds mean "
              + java.util.Arrays.toString(n.mean())
              + " and variance "
              + java.util.Arrays.toString(n.variance())
              + ", but "
              + a.id()
              + " normalises its input as the preprocessing "
              + p
              + "; Graft cannot load another input normalisation");
    }
  }

  Path resolveCacheDir() {
    if (cacheDir != null) {
      return cacheDir;
    }
    return defaultCacheDir();
  }

  boolean resolveOffline() {
    return offline != null ? offline : defaultOffline();
  }

  /** The base URL given to {@link #imagenetBaseUrl(String)}, or null. */
  String explicitBaseUrl() {
    return baseUrl;
  }

  String resolveBaseUrl() {
    if (baseUrl != null) {
      return baseUrl;
    }
    String p = System.getProperty(BASE_URL_PROPERTY);
    if (p != null && !p.isBlank()) {
      return p;
    }
    String env = System.getenv("GRAFT_IMAGENET_BASE_URL");
    if (env != null && !env.isBlank()) {
      return env;
    }
    return DL4JResources.getBaseDownloadURL();
  }

  /**
   * The cache directory when none is set on the builder: system property {@value
   * #CACHE_DIR_PROPERTY}, then environment variable {@code GRAFT_CACHE_DIR}, then {@code
   * ~/.graft/cache}.
   */
  public static Path defaultCacheDir() {
    String p = System.getProperty(CACHE_DIR_PROPERTY);
    if (p != null && !p.isBlank()) {
      return Path.of(p);
    }
    String env = System.getenv("GRAFT_CACHE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".graft", "cache");
  }

  /**
   * Offline mode when none is set on the builder: system property {@value #OFFLINE_PROPERTY} {@code
   * =true}, or environment variable {@code GRAFT_OFFLINE} set to {@code 1} or {@code true}.
   */
  public static boolean defaultOffline() {
    if (Boolean.parseBoolean(System.getProperty(OFFLINE_PROPERTY, "false"))) {
      return true;
    }
    String env = System.getenv("GRAFT_OFFLINE");
    return env != null && (env.equals("1") || env.equalsIgnoreCase("true"));
  }
}
