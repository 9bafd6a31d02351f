package dev.graft.spark;

import dev.graft.model.Prediction;
import dev.graft.model.Predictor;
import dev.graft.model.TransferModel;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Spark ML {@link Transformer} that predicts the labels of images with a trained {@code .graft}
 * model: the same labels and probabilities {@code graft predict} gives for the same files.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("incoming/*.jpg");
 * Dataset<Row> preds = new GraftPredictor()
 *     .setModelPath("flowers.graft")     // on every executor, or shipped with --files
 *     .setInputCol("content")            // binary image bytes, or a string column of paths
 *     .setTopK(3)
 *     .transform(images);                // + prediction, probability, topK, predictionError
 * }</pre>
 *
 * <p>Columns added: {@code predictionCol} (the most probable label), {@code probabilityCol} (a
 * {@code Vector} of every class's probability, in the model's label order), {@code topKCol} (an
 * array of {@code {label, index, probability}}, most probable first) and {@code errorCol} (why a
 * row's image could not be used, with nulls in the other columns; it never fails the job). Each
 * executor JVM loads the model once and shares it between its tasks.
 */
public final class GraftPredictor extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(GraftPredictor.class);

  /** The element type of the top-k column. */
  public static final StructType TOP_K_TYPE =
      new StructType()
          .add("label", DataTypes.StringType, false)
          .add("index", DataTypes.IntegerType, false)
          .add("probability", DataTypes.DoubleType, false);

  private final String uid;
  private final Param<String> modelPath;
  private final IntParam topK;
  private final IntParam batchSize;
  private final Param<String> inputCol;
  private final Param<String> predictionCol;
  private final Param<String> probabilityCol;
  private final Param<String> topKCol;
  private final Param<String> errorCol;

  /** A predictor with a random uid. */
  public GraftPredictor() {
    this("graftPredictor_" + UUID.randomUUID().toString().substring(0, 12));
  }

  /** A predictor with the given uid (Spark ML's copy and load use this constructor). */
  public GraftPredictor(String uid) {
    this.uid = uid;
    modelPath = new Param<>(this, "modelPath", "the .graft model file");
    topK = new IntParam(this, "topK", "how many labels the top-k column holds");
    batchSize = new IntParam(this, "batchSize", "images per forward pass");
    inputCol =
        new Param<>(this, "inputCol", "column of image bytes (binary) or image paths (string)");
    predictionCol = new Param<>(this, "predictionCol", "output column: the most probable label");
    probabilityCol =
        new Param<>(this, "probabilityCol", "output column: every class's probability");
    topKCol =
        new Param<>(this, "topKCol", "output column: the top-k labels with their probabilities");
    errorCol =
        new Param<>(
            this, "errorCol", "output column: why a row's image could not be used, or null");
    setDefault(topK, 3);
    setDefault(batchSize, 32);
    setDefault(inputCol, "content");
    setDefault(predictionCol, "prediction");
    setDefault(probabilityCol, "probability");
    setDefault(topKCol, "topK");
    setDefault(errorCol, "predictionError");
  }

  @Override
  public String uid() {
    return uid;
  }

  /** The {@code .graft} model file. Required. */
  public Param<String> modelPath() {
    return modelPath;
  }

  /** How many labels the top-k column holds (default 3). */
  public IntParam topK() {
    return topK;
  }

  /** Images per forward pass (default 32). */
  public IntParam batchSize() {
    return batchSize;
  }

  /** Input column (default {@code content}). */
  public Param<String> inputCol() {
    return inputCol;
  }

  /** Output column of labels (default {@code prediction}). */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** Output column of probability vectors (default {@code probability}). */
  public Param<String> probabilityCol() {
    return probabilityCol;
  }

  /** Output column of top-k arrays (default {@code topK}). */
  public Param<String> topKCol() {
    return topKCol;
  }

  /** Output column of error messages (default {@code predictionError}). */
  public Param<String> errorCol() {
    return errorCol;
  }

  /** Sets {@link #modelPath()}. */
  public GraftPredictor setModelPath(String value) {
    set(modelPath, value);
    return this;
  }

  /** Sets {@link #topK()}. */
  public GraftPredictor setTopK(int value) {
    set(topK, value);
    return this;
  }

  /** Sets {@link #batchSize()}. */
  public GraftPredictor setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  /** Sets {@link #inputCol()}. */
  public GraftPredictor setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  /** Sets {@link #predictionCol()}. */
  public GraftPredictor setPredictionCol(String value) {
    set(predictionCol, value);
    return this;
  }

  /** Sets {@link #probabilityCol()}. */
  public GraftPredictor setProbabilityCol(String value) {
    set(probabilityCol, value);
    return this;
  }

  /** Sets {@link #topKCol()}. */
  public GraftPredictor setTopKCol(String value) {
    set(topKCol, value);
    return this;
  }

  /** Sets {@link #errorCol()}. */
  public GraftPredictor setErrorCol(String value) {
    set(errorCol, value);
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!isDefined(modelPath) || getOrDefault(modelPath).isBlank()) {
      throw new IllegalArgumentException(
          "GraftPredictor: setModelPath(...) is required: a .graft file");
    }
    int k = (Integer) getOrDefault(topK);
    if (k < 1) {
      throw new IllegalArgumentException("topK must be at least 1, got " + k);
    }
    int b = (Integer) getOrDefault(batchSize);
    if (b < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, got " + b);
    }
    ImageRows.checkInput(schema, getOrDefault(inputCol));
    List<String> outs =
        List.of(
            getOrDefault(predictionCol),
            getOrDefault(probabilityCol),
            getOrDefault(topKCol),
            getOrDefault(errorCol));
    if (outs.stream().distinct().count() != outs.size()) {
      throw new IllegalArgumentException("output columns must differ, got " + outs);
    }
    ImageRows.checkNew(schema, "predictionCol", outs.get(0));
    ImageRows.checkNew(schema, "probabilityCol", outs.get(1));
    ImageRows.checkNew(schema, "topKCol", outs.get(2));
    ImageRows.checkNew(schema, "errorCol", outs.get(3));
    return schema
        .add(outs.get(0), DataTypes.StringType, true)
        .add(outs.get(1), SQLDataTypes.VectorType(), true)
        .add(outs.get(2), DataTypes.createArrayType(TOP_K_TYPE, false), true)
        .add(outs.get(3), DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    Dataset<Row> df = dataset.toDF();
    Rows rows =
        new Rows(
            df.schema(),
            getOrDefault(inputCol),
            (Integer) getOrDefault(batchSize),
            getOrDefault(modelPath),
            (Integer) getOrDefault(topK));
    return df.mapPartitions(rows, Encoders.row(out));
  }

  @Override
  public GraftPredictor copy(ParamMap extra) {
    return (GraftPredictor) defaultCopy(extra);
  }

  /** Spark ML's reader for a saved predictor. */
  public static MLReader<GraftPredictor> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a predictor saved with {@code write().save(path)}. */
  public static GraftPredictor load(String path) {
    return read().load(path);
  }

  /** This JVM's predictor for the model file, loaded by the first task that asks. */
  static Predictor shared(String modelPath) throws IOException {
    Path file = ExecutorJvm.localFile(modelPath);
    return JvmCache.get(
        List.of("model", file.toAbsolutePath().toString(), ExecutorJvm.stamp(file)),
        () -> {
          TransferModel m = TransferModel.load(file);
          LOG.info(
              "loaded model {} ({} labels, base {}) for {} task slot(s)",
              file,
              m.labels().size(),
              m.info().baseId(),
              ExecutorJvm.slots());
          return m.predictor(ExecutorJvm.slots());
        });
  }

  /** The executors' side: predictions for a partition's images. */
  private static final class Rows extends ImageRows {
    private static final long serialVersionUID = 1L;
    private final String modelPath;
    private final int k;
    private transient Predictor predictor;

    Rows(StructType schema, String inputCol, int batchSize, String modelPath, int k) {
      super(schema, inputCol, batchSize, 3);
      this.modelPath = modelPath;
      this.k = k;
    }

    @Override
    void open() throws IOException {
      predictor = shared(modelPath);
    }

    @Override
    Object[][] compute(List<BufferedImage> images) {
      int classes = predictor.info().numClasses();
      // Every class, most probable first: the probability vector and the top k from one pass.
      List<List<Prediction>> all = predictor.predictImages(images, classes);
      Object[][] out = new Object[all.size()][];
      for (int i = 0; i < out.length; i++) {
        List<Prediction> ranked = all.get(i);
        double[] probs = new double[classes];
        for (Prediction p : ranked) {
          probs[p.index()] = p.probability();
        }
        Row[] top = new Row[Math.min(k, classes)];
        for (int j = 0; j < top.length; j++) {
          Prediction p = ranked.get(j);
          top[j] = RowFactory.create(p.label(), p.index(), p.probability());
        }
        out[i] = new Object[] {ranked.get(0).label(), Vectors.dense(probs), top};
      }
      return out;
    }
  }
}
