package dev.graft.features;

import dev.graft.data.ImageDataset;
import dev.graft.data.Sample;
import dev.graft.io.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;

/**
 * The files {@code graft featurize} writes ({@code features.npy}, {@code labels.csv}, {@code
 * classes.txt}, {@code featurize.json}), each through {@link AtomicFiles}: a reader or a killed run
 * sees the old file or the new one, and two runs into one directory never mix bytes.
 */
final class FeatureFiles {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private FeatureFiles() {}

  /** Writes the rows of {@code features.npy}. */
  @FunctionalInterface
  interface RowWriter {
    void write(OutputStream o) throws IOException;
  }

  /** Writes {@code out/features.npy}: the header for {@code [rows, dim]}, then {@code body}. */
  static void writeNpy(Path out, int rows, int dim, RowWriter body) throws IOException {
    AtomicFiles.write(
        out.resolve("features.npy"),
        ch -> {
          // not closed here: AtomicFiles forces and closes the channel
          OutputStream o = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
          o.write(npyHeader(rows, dim));
          body.write(o);
          o.flush();
        });
  }

  /** Appends float32 little-endian rows. */
  static void writeRows(OutputStream o, INDArray rows) throws IOException {
    float[] flat = rows.dup('c').data().asFloat();
    ByteBuffer buf = ByteBuffer.allocate(flat.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(flat);
    o.write(buf.array());
  }

  /**
   * Writes {@code labels.csv}, {@code classes.txt} and {@code featurize.json} (from {@code meta}).
   */
  static void writeSideFiles(ImageDataset data, Path out, Map<String, Object> meta)
      throws IOException {
    List<Sample> samples = data.samples();
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
    writeText(out.resolve("labels.csv"), csv.toString());
    writeText(out.resolve("classes.txt"), String.join("\n", data.labels()) + "\n");
    writeText(out.resolve("featurize.json"), JSON.writeValueAsString(meta) + "\n");
  }

  private static void writeText(Path target, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(
        target,
        ch -> {
          ByteBuffer b = ByteBuffer.wrap(bytes);
          while (b.hasRemaining()) {
            ch.write(b);
          }
        });
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
}
