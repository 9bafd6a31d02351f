package dev.graft.spark;

import dev.graft.base.Base;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.UUID;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that turns images into the pooled features of a pretrained base:
 * the numbers {@code graft featurize} writes for the same images and settings (same decoder, same
 * preprocessing, same graph; convolutional maps averaged over height and width).
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("photos/*}{@code /*.jpg");
 * Dataset<Row> feats = new GraftFeaturizer()
 *     .setBase("resnet50")               // a catalog id, or the path of a DL4J zip / .graft
 *     .setWeights("imagenet")            // as graft's --weights; optional
 *     .setImageSize(224)                 // optional, as --image-size (also setPreprocess, setCut)
 *     .setInputCol("content")            // binary image bytes, or a string column of paths
 *     .setOutputCol("features")          // org.apache.spark.ml.linalg.Vector
 *     .transform(images);
 * }</pre>
 *
 * <p>Each executor JVM loads the base once, the first time one of its tasks needs it, and its tasks
 * share it (one network copy per concurrently running task); rows go through the network {@link
 * #setBatchSize batchSize} at a time. A row whose image cannot be read or decoded gets a null
 * vector and the reason in {@link #setErrorCol errorCol}; it never fails the job. Files named in
 * the parameters (a base zip, weights) must exist at that path on every executor, or be shipped
 * with {@code spark-submit --files} / {@code SparkContext.addFile}.
 *
 * <p>Saved and loaded with Spark ML's default params format ({@code write().save(path)}, {@link
 * #load}), alone or in a {@code Pipeline}.
 */
public final class GraftFeaturizer extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> base;
  private final Param<String> weights;
  private final IntParam imageSize;
  private final Param<String> preprocess;
  private final Param<String> cut;
  private final Param<String> resize;
  private final LongParam seed;
  private final IntParam batchSize;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> errorCol;

  /** A featurizer with a random uid. */
  public GraftFeaturizer() {
    this("graftFeaturizer_" + UUID.randomUUID().toString().substring(0, 12));
  }

  /** A featurizer with the given uid (Spark ML's copy and load use this constructor). */
  public GraftFeaturizer(String uid) {
    this.uid = uid;
    base =
        new Param<>(
            this,
            "base",
            "the pretrained base: a catalog id (vgg16, resnet50, inceptionv3,"
                + " ...), or the path of a DL4J zip or a .graft model");
    weights =
        new Param<>(
            this,
            "weights",
            "a catalog base's weights, as graft's --weights: imagenet, none,"
                + " or a DL4J zip / Keras .h5 path; empty: the base's default");
    imageSize =
        new IntParam(this, "imageSize", "square input size in pixels; 0: the base's default");
    preprocess =
        new Param<>(
            this,
            "preprocess",
            "pixel preprocessing: unit, caffe, inception or none;" + " empty: the base's own");
    cut =
        new Param<>(
            this,
            "cut",
            "layer whose activations are the features; empty: the base's feature layer");
    resize = new Param<>(this, "resize", "how images reach the input size: center-crop or stretch");
    seed = new LongParam(this, "seed", "seed of the random initialisation with weights none");
    batchSize = new IntParam(this, "batchSize", "images per forward pass");
    inputCol =
        new Param<>(this, "inputCol", "column of image bytes (binary) or image paths (string)");
    outputCol = new Param<>(this, "outputCol", "output column of feature vectors");
    errorCol =
        new Param<>(
            this, "errorCol", "output column: why a row's image could not be used, or null");
    setDefault(weights, "");
    setDefault(imageSize, 0);
    setDefault(preprocess, "");
    setDefault(cut, "");
    setDefault(resize, "center-crop");
    setDefault(seed, 42L);
    setDefault(batchSize, 32);
    setDefault(inputCol, "content");
    setDefault(outputCol, "features");
    setDefault(errorCol, "featuresError");
  }

  @Override
  public String uid() {
    return uid;
  }

  /** The base: a catalog id, or the path of a DL4J zip or a {@code .graft} model. Required. */
  public Param<String> base() {
    return base;
  }

  /** The weights of a catalog base, as {@code --weights}. */
  public Param<String> weights() {
    return weights;
  }

  /** Square input size in pixels (0: the base's default). */
  public IntParam imageSize() {
    return imageSize;
  }

  /** Pixel preprocessing, as {@code --preprocess}. */
  public Param<String> preprocess() {
    return preprocess;
  }

  /** The cut layer, as {@code --cut}. */
  public Param<String> cut() {
    return cut;
  }

  /** The resize mode, as {@code --resize} (default {@code center-crop}). */
  public Param<String> resize() {
    return resize;
  }

  /** Seed of random initialisation with {@code weights none}, as {@code --seed} (default 42). */
  public LongParam seed() {
    return seed;
  }

  /** Images per forward pass (default 32). */
  public IntParam batchSize() {
    return batchSize;
  }

  /** Input column (default {@code content}, as {@code binaryFile} reads it). */
  public Param<String> inputCol() {
    return inputCol;
  }

  /** Output column of feature vectors (default {@code features}). */
  public Param<String> outputCol() {
    return outputCol;
  }

  /** Output column of error messages (default {@code featuresError}). */
  public Param<String> errorCol() {
    return errorCol;
  }

  /** Sets {@link #base()}. */
  public GraftFeaturizer setBase(String value) {
    set(base, value);
    return this;
  }

  /** Sets {@link #weights()}. */
  public GraftFeaturizer setWeights(String value) {
    set(weights, value);
    return this;
  }

  /** Sets {@link #imageSize()}. */
  public GraftFeaturizer setImageSize(int value) {
    set(imageSize, value);
    return this;
  }

  /** Sets {@link #preprocess()}. */
  public GraftFeaturizer setPreprocess(String value) {
    set(preprocess, value);
    return this;
  }

  /** Sets {@link #cut()}. */
  public GraftFeaturizer setCut(String value) {
    set(cut, value);
    return this;
  }

  /** Sets {@link #resize()}. */
  public GraftFeaturizer setResize(String value) {
    set(resize, value);
    return this;
  }

  /** Sets {@link #seed()}. */
  public GraftFeaturizer setSeed(long value) {
    set(seed, value);
    return this;
  }

  /** Sets {@link #batchSize()}. */
  public GraftFeaturizer setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  /** Sets {@link #inputCol()}. */
  public GraftFeaturizer setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  /** Sets {@link #outputCol()}. */
  public GraftFeaturizer setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  /** Sets {@link #errorCol()}. */
  public GraftFeaturizer setErrorCol(String value) {
    set(errorCol, value);
    return this;
  }

  /** The settings the executors load the base with. */
  FeaturizerSettings settings() {
    if (!isDefined(base)) {
      throw new IllegalArgumentException(
          "GraftFeaturizer: setBase(...) is required: a catalog id"
              + " (vgg16, resnet50, ...), a DL4J zip or a .graft model");
    }
    return new FeaturizerSettings(
        getOrDefault(base),
        emptyToNull(getOrDefault(weights)),
        (Integer) getOrDefault(imageSize),
        emptyToNull(getOrDefault(preprocess)),
        emptyToNull(getOrDefault(cut)),
        getOrDefault(resize),
        (Long) getOrDefault(seed));
  }

  /**
   * Loads the base these settings name, here (for example on the driver, to export a head trained
   * on its features with {@link SparkHeads}). Executors keep their own copy.
   *
   * @throws IOException if a file cannot be read
   */
  public Base loadBase() throws IOException {
    return SharedFeaturizer.of(settings()).base();
  }

  @Override
  public StructType transformSchema(StructType schema) {
    settings();
    int b = (Integer) getOrDefault(batchSize);
    if (b < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, got " + b);
    }
    ImageRows.checkInput(schema, getOrDefault(inputCol));
    ImageRows.checkNew(schema, "outputCol", getOrDefault(outputCol));
    ImageRows.checkNew(schema, "errorCol", getOrDefault(errorCol));
    if (getOrDefault(outputCol).equals(getOrDefault(errorCol))) {
      throw new IllegalArgumentException(
          "outputCol and errorCol are both '" + getOrDefault(errorCol) + "'");
    }
    return schema
        .add(getOrDefault(outputCol), SQLDataTypes.VectorType(), true)
        .add(getOrDefault(errorCol), DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    Dataset<Row> df = dataset.toDF();
    Rows rows =
        new Rows(
            df.schema(), getOrDefault(inputCol), (Integer) getOrDefault(batchSize), settings());
    return df.mapPartitions(rows, Encoders.row(out));
  }

  @Override
  public GraftFeaturizer copy(ParamMap extra) {
    return (GraftFeaturizer) defaultCopy(extra);
  }

  /** Spark ML's reader for a saved featurizer. */
  public static MLReader<GraftFeaturizer> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a featurizer saved with {@code write().save(path)}. */
  public static GraftFeaturizer load(String path) {
    return read().load(path);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** The executors' side: features of a partition's images. */
  private static final class Rows extends ImageRows {
    private static final long serialVersionUID = 1L;
    private final FeaturizerSettings settings;
    private transient SharedFeaturizer featurizer;

    Rows(StructType schema, String inputCol, int batchSize, FeaturizerSettings settings) {
      super(schema, inputCol, batchSize, 1);
      this.settings = settings;
    }

    @Override
    void open() throws IOException {
      featurizer = SharedFeaturizer.of(settings);
    }

    @Override
    Object[][] compute(List<BufferedImage> images) {
      float[][] f = featurizer.features(images);
      Object[][] out = new Object[f.length][];
      for (int i = 0; i < f.length; i++) {
        double[] d = new double[f[i].length];
        for (int j = 0; j < d.length; j++) {
          d[j] = f[i][j];
        }
        out[i] = new Object[] {Vectors.dense(d)};
      }
      return out;
    }
  }
}
