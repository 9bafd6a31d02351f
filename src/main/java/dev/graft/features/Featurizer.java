package dev.graft.features;

import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageDecoder;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.data.Sample;
import dev.graft.error.GraftException;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * <pre>{@code
 * Base base = Bases.resnet50().imagenet().load();
 * Featurizer.Written w = Featurizer.write(base, ImageFolder.of(photos), ResizeMode.CENTER_CROP,
 *     32, Path.of("features"), done -> {});
 * }</pre>
 */
public final class Featurizer {
  private static final Logger log = LoggerFactory.getLogger(Featurizer.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Featurizer() {}

  /**
   * What {@link #write} wrote.
   *
   * @param count rows (images)
   * @param dimension columns (features per image)
   * @param features the {@code features.npy} file
   */
  public record Written(int count, int dimension, Path features) {}

  /**
   * Runs {@code base} over every image of {@code data} in batches and writes the four files to
   * {@code out} (created if needed).
   *
   * @param progress told the number of images done after each batch
   * @throws GraftException for a batch size below 1 or an image that cannot be decoded (naming it)
   */
  public static Written write(
      Base base,
      ImageDataset data,
      ResizeMode resize,
      int batchSize,
      Path out,
      IntConsumer progress)
      throws IOException {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(data, "data");
    if (batchSize < 1) {
      throw new GraftException("batch size must be at least 1, got " + batchSize);
    }
    Files.createDirectories(out);
    // Unique temporary names: two runs into one directory must not write into each other's files.
    Path npyTmp = Files.createTempFile(out, ".features.", ".npy.tmp");
    Path rawTmp = Files.createTempFile(out, ".features.", ".raw.tmp");
    try {
      return write(base, data, resize, batchSize, out, progress, npyTmp, rawTmp);
    } finally {
      Files.deleteIfExists(rawTmp);
      Files.deleteIfExists(npyTmp);
    }
  }

  private static Written write(
      Base base,
      ImageDataset data,
      ResizeMode resize,
      int batchSize,
      Path out,
      IntConsumer progress,
      Path npyTmp,
      Path rawTmp)
      throws IOException {
    ImageTransform transform = new ImageTransform(base.inputSize(), resize, base.preprocessing());
    int dim = -1;
    ComputationGraph graph = base.graph();
    List<Sample> samples = data.samples();
    try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(rawTmp), 1 << 16)) {
      for (int from = 0; from < samples.size(); from += batchSize) {
        List<Sample> chunk = samples.subList(from, Math.min(samples.size(), from + batchSize));
        List<BufferedImage> imgs = new ArrayList<>(chunk.size());
        for (Sample s : chunk) {
          imgs.add(decode(s.path()));
        }
        INDArray pooled = pooledFeatures(graph, base.featureLayer(), transform.toBatch(imgs));
        float[] flat = pooled.dup('c').data().asFloat();
        int d = (int) pooled.size(1);
        if (dim < 0) {
          dim = d;
        }
        ByteBuffer buf = ByteBuffer.allocate(flat.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(flat);
        raw.write(buf.array());
        progress.accept(from + chunk.size());
      }
    }
    // Prepend the .npy header now that N and F are known.
    try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(npyTmp), 1 << 16)) {
      o.write(npyHeader(data.size(), dim));
      Files.copy(rawTmp, o);
    }
    Path features = out.resolve("features.npy");
    Files.move(
        npyTmp, features, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    StringBuilder csv = new StringBuilder("row,label,class_index,path\n");
    for (int i = 0; i < data.size(); i++) {
      Sample s = samples.get(i);
      csv.append(i)
          .append(',')
          .append(csvField(data.labels().get(s.label())))
          .append(',')
          .append(s.label())
          .append(',')
          .append(csvField(s.path().toString()))
          .append('\n');
    }
    writeAtomically(out.resolve("labels.csv"), csv.toString());
    writeAtomically(out.resolve("classes.txt"), String.join("\n", data.labels()) + "\n");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("base", base.id());
    meta.put("weightsKey", base.weightsKey());
    base.weightsSha256().ifPresent(sha -> meta.put("weightsSha256", sha));
    meta.put("cut", base.featureLayer());
    meta.put("inputSize", base.inputSize());
    meta.put("preprocessing", base.preprocessing().name());
    meta.put("resize", resize.name());
    meta.put("pooling", "global-average");
    meta.put("count", data.size());
    meta.put("dimension", dim);
    meta.put("classes", data.labels());
    writeAtomically(out.resolve("featurize.json"), JSON.writeValueAsString(meta) + "\n");
    log.info(
        "wrote {} x {} features ({}, cut {}) to {}",
        data.size(),
        dim,
        base.id(),
        base.featureLayer(),
        features);
    return new Written(data.size(), dim, features);
  }

  private static BufferedImage decode(Path f) {
    try {
      return ImageDecoder.read(f);
    } catch (IOException | RuntimeException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new GraftException(
          "cannot read image " + f + ": " + why.replace(f.toString() + ": ", ""), e);
    }
  }

  /** A NumPy .npy v1.0 header for a C-order little-endian float32 matrix. */
  static byte[] npyHeader(int rows, int cols) throws IOException {
    String dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int unpadded = 10 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(bos);
    d.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    d.writeByte(header.length() & 0xff);
    d.writeByte(header.length() >>> 8);
    d.write(header.getBytes(StandardCharsets.US_ASCII));
    return bos.toByteArray();
  }

  private static String csvField(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n")
        ? "\"" + s.replace("\"", "\"\"") + "\""
        : s;
  }

  /** Writes {@code text} to a unique temporary name beside {@code target}, then moves it there. */
  private static void writeAtomically(Path target, String text) throws IOException {
    Path tmp =
        Files.createTempFile(
            target.toAbsolutePath().getParent(), "." + target.getFileName() + ".", ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * The features of one batch, as every Graft path computes them (the CLI's {@code featurize}, the
   * Spark featurizer): the activations of {@code layer} in inference mode, global-average- pooled
   * over height and width when convolutional, flattened otherwise.
   *
   * @param graph the base network (not modified; not thread-safe, so one caller at a time)
   * @param layer the cut layer
   * @param input a preprocessed batch, {@code [N, C, H, W]}
   * @return {@code [N, F]} float features
   */
  public static INDArray pooledFeatures(ComputationGraph graph, String layer, INDArray input) {
    INDArray act = graph.output(List.of(layer), false, new INDArray[] {input}, null)[0];
    INDArray pooled = act.rank() == 4 ? act.mean(2, 3) : act.reshape(act.size(0), -1);
    return pooled.castTo(DataType.FLOAT);
  }
}
