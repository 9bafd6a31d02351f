package dev.graft.cli;

import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageTransform;
import dev.graft.data.Sample;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
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
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code graft featurize --base ... [--weights ...] --data DIR --out DIR}: pooled base features
 * for every image of a labelled folder, written as
 *
 * <ul>
 *   <li>{@code features.npy}: float32 {@code [N, F]} (NumPy {@code .npy} v1.0, little-endian);
 *       convolutional features are global-average-pooled over height and width;
 *   <li>{@code labels.csv}: {@code row,label,class_index,path} for each row of the matrix;
 *   <li>{@code classes.txt}: the class names, one per line, in index order;
 *   <li>{@code featurize.json}: base id, weights key, cut layer, input size, preprocessing,
 *       resize mode, N and F.
 * </ul>
 *
 * Each file is written under a unique temporary name in DIR and moved into place, so concurrent
 * runs into one DIR never mix bytes (the last run to finish a file wins that file).
 */
@Command(
    name = "featurize",
    mixinStandardHelpOptions = true,
    description = "Compute pooled base features for a folder of labelled images and write them to"
        + " DIR (features.npy, labels.csv, classes.txt, featurize.json).",
    footer = {"", "Example: graft featurize --base resnet50 --data photos/ --out features/"})
final class FeaturizeCommand extends GraftCommand {
  @Mixin BaseOptions baseOptions;

  @Option(names = "--data", required = true, paramLabel = "DIR",
      description = "Labelled images, one subfolder per class.")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
  Path out;

  @Option(names = "--batch", defaultValue = "32", paramLabel = "B",
      description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seed", defaultValue = "42", paramLabel = "S",
      description = "Seed for randomly initialised weights (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  int run() throws IOException {
    requireDirectory("--data", data);
    if (batch < 1) {
      throw new BadInputException("--batch: must be at least 1, got " + batch);
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new BadInputException("--out: not a directory: " + out);
    }
    ImageDataset ds = EvaluateCommand.scan("--data", data);
    Base base = baseOptions.load(seed);
    ImageTransform transform =
        new ImageTransform(base.inputSize(), baseOptions.resizeMode(), base.preprocessing());
    Files.createDirectories(out);
    // Unique temporary names: two runs into one --out must not write into each other's files.
    Path npyTmp = Files.createTempFile(out, ".features.", ".npy.tmp");
    Path rawTmp = Files.createTempFile(out, ".features.", ".raw.tmp");
    try {
      writeFeatures(ds, base, transform, npyTmp, rawTmp);
    } finally {
      Files.deleteIfExists(rawTmp);
      Files.deleteIfExists(npyTmp);
    }
    return ExitCodes.OK;
  }

  private void writeFeatures(ImageDataset ds, Base base, ImageTransform transform, Path npyTmp,
      Path rawTmp) throws IOException {
    int dim = -1;
    ComputationGraph graph = base.graph();
    List<String> layer = List.of(base.featureLayer());
    try (ProgressBar bar = progress("featurizing", ds.size(), "img");
        OutputStream raw = new BufferedOutputStream(Files.newOutputStream(rawTmp), 1 << 16)) {
      List<Sample> samples = ds.samples();
      for (int from = 0; from < samples.size(); from += batch) {
        List<Sample> chunk = samples.subList(from, Math.min(samples.size(), from + batch));
        List<BufferedImage> imgs = new ArrayList<>(chunk.size());
        for (Sample s : chunk) {
          imgs.add(PredictCommand.decode(s.path()));
        }
        INDArray act = graph.output(layer, false, new INDArray[] {transform.toBatch(imgs)}, null)[0];
        INDArray pooled = act.rank() == 4 ? act.mean(2, 3) : act.reshape(act.size(0), -1);
        float[] flat = pooled.castTo(DataType.FLOAT).dup('c').data().asFloat();
        int d = (int) pooled.size(1);
        if (dim < 0) {
          dim = d;
        }
        ByteBuffer buf = ByteBuffer.allocate(flat.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(flat);
        raw.write(buf.array());
        bar.update(from + chunk.size());
      }
    }
    // Prepend the .npy header now that N and F are known.
    try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(npyTmp), 1 << 16)) {
      o.write(npyHeader(ds.size(), dim));
      Files.copy(rawTmp, o);
    }
    Files.move(npyTmp, out.resolve("features.npy"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    StringBuilder csv = new StringBuilder("row,label,class_index,path\n");
    for (int i = 0; i < ds.size(); i++) {
      Sample s = ds.samples().get(i);
      csv.append(i).append(',').append(csvField(ds.labels().get(s.label()))).append(',').append(s.label())
          .append(',').append(csvField(s.path().toString())).append('\n');
    }
    writeAtomically(out.resolve("labels.csv"), csv.toString());
    writeAtomically(out.resolve("classes.txt"), String.join("\n", ds.labels()) + "\n");
    ObjectNode meta = JSON.createObjectNode();
    meta.put("base", base.id());
    meta.put("weightsKey", base.weightsKey());
    base.weightsSha256().ifPresent(sha -> meta.put("weightsSha256", sha));
    meta.put("cut", base.featureLayer());
    meta.put("inputSize", base.inputSize());
    meta.put("preprocessing", base.preprocessing().name());
    meta.put("resize", baseOptions.resizeMode().name());
    meta.put("pooling", "global-average");
    meta.put("count", ds.size());
    meta.put("dimension", dim);
    ArrayNode classes = meta.putArray("classes");
    ds.labels().forEach(classes::add);
    writeAtomically(out.resolve("featurize.json"), JSON.writeValueAsString(meta) + "\n");
    out().printf(Locale.ROOT, "wrote %d x %d features (%s, cut %s) to %s%n", ds.size(), dim, base.id(),
        base.featureLayer(), out.resolve("features.npy"));
    out().flush();
  }

  /** A NumPy .npy v1.0 header for a C-order little-endian float32 matrix. */
  static byte[] npyHeader(int rows, int cols) throws IOException {
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int unpadded = 10 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    var bos = new java.io.ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(bos);
    d.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    d.writeByte(header.length() & 0xff);
    d.writeByte(header.length() >>> 8);
    d.write(header.getBytes(StandardCharsets.US_ASCII));
    return bos.toByteArray();
  }

  private static String csvField(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  /** Writes {@code text} to a unique temporary name beside {@code target}, then moves it there. */
  static void writeAtomically(Path target, String text) throws IOException {
    Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName() + ".", ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
