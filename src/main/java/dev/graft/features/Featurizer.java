package dev.graft.features;

import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.data.Sample;
import dev.graft.data.SkippedFile;
import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pooled base features for every image of a labelled folder, written to a directory that NumPy,
 * pandas and friends read directly:
 *
 * <ul>
 *   <li>{@code features.npy}: float32 {@code [N, F]} (NumPy {@code .npy} v1.0, little-endian);
 *       convolutional features are global-average-pooled over height and width;
 *   <li>{@code labels.csv}: {@code row,label,class_index,path} for each row of the matrix;
 *   <li>{@code classes.txt}: the class names, one per line, in index order;
 *   <li>{@code featurize.json}: base id, weights key, cut layer, input size, preprocessing, resize
 *       mode, N and F.
 * </ul>
 *
 * Each file is written under a unique temporary name in the directory and moved into place, so
 * concurrent runs into one directory never mix bytes (the last run to finish a file wins it).
 *
 * <p>The one featurizing path of Graft: the base's {@link InferenceNetwork} up to the cut (the
 * optimized graph training's frozen part and the predictor run), a decode thread one batch ahead of
 * the forward pass ({@link DecodedBatches}), and, when a {@link CacheRoot} is given, the on-disk
 * feature cache: each chunk of images is published to it as soon as it is computed, so a killed run
 * resumes where it stopped and an unchanged rerun only hashes the files and reads the cache.
 *
 * <pre>{@code
 * try (Base base = Bases.resnet50().imagenet().load();
 *     Featurizer f = Featurizer.builder(base).cache(CacheRoot.standard()).build()) {
 *   Featurizer.Written w = f.write(ImageFolder.of(photos), Path.of("features"), done -> {});
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one caller at a time.
 *
 * <p>Why one class of this size: the cached and the uncached path, and the skip policy between
 * them, must agree on which rows a file gets; the builder and the written files' description are
 * small parts of the same contract.
 */
public final class Featurizer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Featurizer.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Images per forward pass unless {@link Builder#batchSize} says otherwise. */
  public static final int DEFAULT_BATCH = 32;

  /** Rows of {@code features.npy} read from the cache at a time when writing it. */
  private static final int WRITE_ROWS = 1024;

  private final Base base;
  private final ResizeMode resize;
  private final int batchSize;
  private final CacheRoot cache;
  private final ImageTransform transform;
  private final InferenceNetwork network;
  private final AtomicLong forwardImages = new AtomicLong();
  private FeatureKey key;

  private Featurizer(Builder b) {
    this.base = b.base;
    this.resize = b.resize;
    this.batchSize = b.batchSize;
    this.cache = b.cache;
    this.transform = new ImageTransform(base.inputSize(), resize, base.preprocessing());
    this.network = InferenceNetwork.of(base.graph(), List.of(), List.of(base.featureLayer()));
  }

  /** A builder of featurizers of {@code base} (the base stays the caller's to close). */
  public static Builder builder(Base base) {
    return new Builder(Objects.requireNonNull(base, "base"));
  }

  /**
   * Configures a {@link Featurizer}: one plain setter per setting, each with a default, as {@link
   * dev.graft.TransferBuilder} and {@link dev.graft.base.BaseBuilder} have; {@link #build()}. The
   * {@code opt*} names of earlier versions still work, deprecated.
   */
  public static final class Builder {
    private final Base base;
    private ResizeMode resize = ResizeMode.CENTER_CROP;
    private int batchSize = DEFAULT_BATCH;
    private CacheRoot cache;

    private Builder(Base base) {
      this.base = base;
    }

    /**
     * How images are brought to the base's input size (default center crop).
     *
     * @param mode the resize mode
     * @return this builder
     */
    public Builder resize(ResizeMode mode) {
      this.resize = Objects.requireNonNull(mode, "resize");
      return this;
    }

    /**
     * Images per forward pass, at least 1 (default {@value Featurizer#DEFAULT_BATCH}).
     *
     * @param images images per forward pass
     * @return this builder
     * @throws GraftException when {@code images} is below 1
     */
    public Builder batchSize(int images) {
      this.batchSize = Ranges.batchSize(images);
      return this;
    }

    /**
     * The on-disk feature cache to read and fill; null (the default) computes everything.
     *
     * @param root the cache, or null
     * @return this builder
     */
    public Builder cache(CacheRoot root) {
      this.cache = root;
      return this;
    }

    /**
     * Same as {@link #resize(ResizeMode)}.
     *
     * @deprecated use {@link #resize(ResizeMode)}; Graft's builders use plain names
     */
    @Deprecated
    public Builder optResize(ResizeMode mode) {
      return resize(mode);
    }

    /**
     * Same as {@link #batchSize(int)}.
     *
     * @deprecated use {@link #batchSize(int)}; Graft's builders use plain names
     */
    @Deprecated
    public Builder optBatchSize(int images) {
      return batchSize(images);
    }

    /**
     * Same as {@link #cache(CacheRoot)}.
     *
     * @deprecated use {@link #cache(CacheRoot)}; Graft's builders use plain names
     */
    @Deprecated
    public Builder optCache(CacheRoot root) {
      return cache(root);
    }

    /** The featurizer (its optimized graph is built here). */
    public Featurizer build() {
      return new Featurizer(this);
    }
  }

  /**
   * What {@link #write} wrote.
   *
   * @param count rows (images)
   * @param dimension columns (features per image)
   * @param features the {@code features.npy} file
   * @param computed images run through the network in this call (the rest came from the cache)
   * @param skipped images left out because they could not be read (each warned about)
   */
  public record Written(
      int count, int dimension, Path features, int computed, List<SkippedFile> skipped) {}

  /**
   * Images run through the network by this featurizer so far (a cached image costs none): what a
   * test counts to see that an unchanged rerun did no forward pass.
   */
  public long forwardImages() {
    return forwardImages.get();
  }

  /**
   * The key of this featurizer's cache entries: base, a hash of the cut graph's parameters, cut,
   * preprocessing, size, resize mode, pooling and {@link InferenceNetwork#NUMERIC_VERSION}.
   */
  public FeatureKey key() {
    if (key == null) {
      key =
          FeatureKey.pooled(
              FeatureKey.Input.of(base, resize),
              base.featureLayer(),
              parameterHash(network.graph()));
    }
    return key;
  }

  /**
   * Pooled features of a preprocessed batch {@code [N, 3, s, s]}: {@code [N, F]}, no cache.
   *
   * @param images preprocessed as {@link #transform()} does
   */
  public INDArray pooled(INDArray images) {
    forwardImages.addAndGet(images.size(0));
    return pool(network.output(images)[0]);
  }

  /** The transform that turns a decoded image into the network's input. */
  public ImageTransform transform() {
    return transform;
  }

  /**
   * Pooled features of image files, {@code [N, F]} in order, decoded one batch ahead of the
   * network; through the cache when there is one. The rows match {@code images} one for one, so a
   * file that cannot be read fails the call ({@link #write} skips such files instead).
   *
   * @throws IOException naming a file that cannot be read or decoded, or when the cache fails
   */
  public INDArray pooled(List<Path> images) throws IOException {
    if (cache == null) {
      return compute(images, false, null).features();
    }
    try (FeatureCache c = cache.open(key()).chunkSize(chunk())) {
      return c.computeIfAbsent(images, this::computeUnchecked);
    }
  }

  /**
   * Runs the base over every image of {@code data} and writes the four files to {@code out}
   * (created if needed). Graft's skip policy applies ({@link SkippedFile}): an image that cannot be
   * read or decoded is left out of the files with one warning naming it, and listed by {@link
   * Written#skipped()}.
   *
   * @param progress told the number of images done after each batch
   * @throws GraftException when no image at all can be read
   */
  public Written write(ImageDataset data, Path out, IntConsumer progress) throws IOException {
    Objects.requireNonNull(data, "data");
    Files.createDirectories(out);
    List<Path> files = data.samples().stream().map(Sample::path).toList();
    List<SkippedFile> skipped = new ArrayList<>();
    long before = forwardImages.get();
    int dim;
    if (cache == null) {
      Rows rows = compute(files, true, progress);
      if (rows.features() == null) {
        throw noneRead(files.size(), rows.skipped());
      }
      skipped.addAll(rows.skipped());
      files = rows.files();
      dim = (int) rows.features().size(1);
      FeatureFiles.writeNpy(
          out, files.size(), dim, o -> FeatureFiles.writeRows(o, rows.features()));
    } else {
      try (FeatureCache c = cache.open(key()).chunkSize(chunk())) {
        List<String> hashes;
        while (true) { // each cache chunk needs every row: a chunk with a bad file runs again
          try {
            hashes = c.populate(files, this::computeUnchecked, progress);
            break;
          } catch (Unreadable u) { // keep the chunk's good rows, so the retry computes none
            skipped.addAll(u.rows.skipped());
            files = without(files, u.rows.skipped());
            List<String> good = new ArrayList<>(u.rows.files().size());
            for (Path f : u.rows.files()) {
              good.add(FeatureCache.contentHash(f));
            }
            if (!good.isEmpty()) {
              c.putAll(good, u.rows.features());
            }
            if (files.isEmpty()) {
              throw noneRead(skipped.size(), skipped);
            }
          }
        }
        List<String> h = hashes;
        dim = (int) c.itemShape().map(sh -> sh[0]).orElse(0L).longValue();
        FeatureFiles.writeNpy(
            out,
            files.size(),
            dim,
            o -> {
              for (int from = 0; from < h.size(); from += WRITE_ROWS) {
                INDArray rows = c.rows(h.subList(from, Math.min(h.size(), from + WRITE_ROWS)));
                FeatureFiles.writeRows(o, rows);
                rows.close();
              }
            });
      }
    }
    ImageDataset kept = skipped.isEmpty() ? data : data.without(skipped);
    int computed = (int) (forwardImages.get() - before);
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("base", base.id());
    meta.put("weightsKey", base.weightsKey());
    base.weightsSha256().ifPresent(sha -> meta.put("weightsSha256", sha));
    meta.put("cut", base.featureLayer());
    meta.put("inputSize", base.inputSize());
    meta.put("preprocessing", base.preprocessing().name());
    meta.put("resize", resize.name());
    meta.put("pooling", "global-average");
    meta.put("count", kept.size());
    meta.put("dimension", dim);
    meta.put("classes", kept.labels());
    meta.put("computed", computed);
    meta.put("fromCache", kept.size() - computed);
    meta.put("skipped", skipped.stream().map(SkippedFile::toString).toList());
    FeatureFiles.writeSideFiles(kept, out, meta);
    log.info(
        "wrote {} x {} features ({}, cut {}) to {}: {} computed, {} from the cache, {} skipped",
        kept.size(),
        dim,
        base.id(),
        base.featureLayer(),
        out,
        computed,
        kept.size() - computed,
        skipped.size());
    return new Written(kept.size(), dim, out.resolve("features.npy"), computed, skipped);
  }

  /** Releases the optimized graph (the base stays open). */
  @Override
  public void close() {
    network.close();
  }

  /** Images per cache chunk: a few batches, so a killed run loses little. */
  private int chunk() {
    return batchSize * 4;
  }

  /** Features of a cache chunk: one row per file, or {@link Unreadable} naming the bad ones. */
  private INDArray computeUnchecked(List<Path> images) {
    Rows rows;
    try {
      rows = compute(images, true, null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!rows.skipped().isEmpty()) {
      throw new Unreadable(rows);
    }
    return rows.features();
  }

  /** A cache chunk held files that cannot be read (each already warned about), and these rows. */
  private static final class Unreadable extends GraftException {
    private final transient Rows rows;

    Unreadable(Rows rows) {
      super("cannot read image " + rows.skipped().get(0));
      this.rows = rows;
    }
  }

  private static GraftException noneRead(int count, List<SkippedFile> skipped) {
    return new GraftException(
        "none of the " + count + " image(s) could be read (first: " + skipped.get(0) + ")");
  }

  private static List<Path> without(List<Path> files, List<SkippedFile> skipped) {
    java.util.Set<Path> bad = new java.util.HashSet<>();
    skipped.forEach(s -> bad.add(s.path()));
    return files.stream().filter(f -> !bad.contains(f)).toList();
  }

  /** Pooled features of the files that could be read, those files, and the ones left out. */
  private record Rows(List<Path> files, INDArray features, List<SkippedFile> skipped) {}

  /**
   * Decodes (one batch ahead) and featurizes {@code images}; with {@code skip}, a file that cannot
   * be read is left out with a warning, else it fails naming it.
   *
   * @return the rows, with null features when no file could be read
   * @throws GraftException for no images, or naming a bad file without {@code skip}
   */
  private Rows compute(List<Path> images, boolean skip, IntConsumer progress) throws IOException {
    List<INDArray> parts = new ArrayList<>();
    List<Path> read = new ArrayList<>(images.size());
    List<SkippedFile> skipped = new ArrayList<>();
    try (DecodedBatches batches = new DecodedBatches(images, batchSize, transform, skip)) {
      for (DecodedBatches.Decoded b = nextBatch(batches); b != null; b = nextBatch(batches)) {
        b.skipped().forEach(s -> skipped.add(s.warn(log)));
        if (b.tensor() != null) {
          parts.add(pooled(b.tensor()));
          read.addAll(b.files());
        }
        if (progress != null) {
          progress.accept(batches.delivered());
        }
      }
    }
    if (parts.isEmpty() && skipped.isEmpty()) {
      throw new GraftException("no images to featurize");
    }
    if (parts.isEmpty()) {
      return new Rows(List.of(), null, skipped);
    }
    INDArray all =
        parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(INDArray[]::new));
    return new Rows(read, all, skipped);
  }

  private static DecodedBatches.Decoded nextBatch(DecodedBatches batches) throws IOException {
    try {
      return batches.nextImages();
    } catch (IOException | RuntimeException e) {
      throw new GraftException(
          e.getMessage() == null ? "cannot read an image: " + e : e.getMessage(), e);
    }
  }

  /** Hex SHA-256 of a graph's parameters (float32, C order): the weights' content. */
  static String parameterHash(ComputationGraph graph) {
    MessageDigest md = ContentHash.sha256();
    INDArray p = graph.params();
    if (p != null && p.length() > 0) {
      INDArray f = p.castTo(DataType.FLOAT).dup('c');
      md.update(f.data().asNio());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Global average pooling over height and width of convolutional activations; other activations
   * are flattened. The pooling of {@code graft featurize} and the Spark featurizer.
   *
   * @param activations {@code [N, C, H, W]} or {@code [N, ...]}
   * @return {@code [N, F]} float
   */
  public static INDArray pool(INDArray activations) {
    INDArray pooled =
        activations.rank() == 4
            ? activations.mean(2, 3)
            : activations.reshape(activations.size(0), -1);
    return pooled.castTo(DataType.FLOAT);
  }
}
