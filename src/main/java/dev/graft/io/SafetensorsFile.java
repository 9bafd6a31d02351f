package dev.graft.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;

/**
 * A {@code .safetensors} file (Hugging Face's tensor format: an 8-byte little-endian header length,
 * a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data),
 * read as untrusted input. Nothing in the file is executed; it is data only.
 *
 * <p>{@link #open} reads and checks the header only; each {@link #read} then reads just that
 * tensor's bytes. The checks, all before any tensor is read:
 *
 * <ul>
 *   <li>the header length is at most {@link Limits#maxConfigBytes()} and inside the file;
 *   <li>the header is JSON through {@link JsonGuard#parseStrict}: strict UTF-8, bounded nesting, no
 *       repeated key, no over-long number;
 *   <li>dtypes are safetensors' own; only {@code F32}, {@code F16} and {@code BF16} tensors can be
 *       {@link #read} (converted to float32); others (a BatchNorm's {@code I64} {@code
 *       num_batches_tracked}) may be listed and left unread;
 *   <li>each shape's element count times the dtype's size equals its byte range, without overflow,
 *       and is at most {@link Limits#maxParameters()};
 *   <li>every byte range lies inside the data section, and no two overlap;
 *   <li>{@code __metadata__}, if present, maps strings to strings.
 * </ul>
 *
 * <p>A file that fails a check is a {@link RefusedFileException} naming the file and the tensor.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("resnet50.safetensors"))) {
 *   for (String name : f.names()) {
 *     System.out.println(name + " " + f.dtype(name) + " " + Arrays.toString(f.shape(name)));
 *   }
 *   INDArray w = f.read("conv1.weight");   // float32 [64, 3, 7, 7]
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
  /** The key of the header's free-form string map. */
  public static final String METADATA = "__metadata__";

  private static final int CHUNK = 1 << 20;

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, Tensor> tensors;
  private final Map<String, String> metadata;

  /** One tensor's header entry; {@code begin}/{@code end} are offsets into the data section. */
  private record Tensor(String dtype, long[] shape, long begin, long end) {}

  private SafetensorsFile(
      Path file,
      FileChannel channel,
      long dataStart,
      Map<String, Tensor> tensors,
      Map<String, String> metadata) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens {@code file} with {@link Limits#defaults()}. */
  public static SafetensorsFile open(Path file) throws IOException {
    return open(file, Limits.defaults());
  }

  /**
   * Opens {@code file} and checks its header (see the class comment); no tensor data is read.
   *
   * @throws NoSuchFileException when there is no such file
   * @throws RefusedFileException when the header breaks a rule, naming the file and the tensor
   * @throws IOException when reading fails
   */
  public static SafetensorsFile open(Path file, Limits limits) throws IOException {
    Objects.requireNonNull(file, "file");
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no safetensors file there");
    }
    try {
      SafetensorsFile f = parse(file, ch, limits);
      ch = null;
      return f;
    } finally {
      if (ch != null) {
        ch.close();
      }
    }
  }

  private static SafetensorsFile parse(Path file, FileChannel ch, Limits limits)
      throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new RefusedFileException(file, null, "not a safetensors file: shorter than 8 bytes");
    }
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, len, 0, file);
    long headerLength = len.flip().getLong();
    if (headerLength < 2 || headerLength > limits.maxConfigBytes()) {
      throw new RefusedFileException(
          file,
          null,
          "not a safetensors file: header length "
              + Long.toUnsignedString(headerLength)
              + " outside 2.."
              + limits.maxConfigBytes()
              + " bytes (raise graft.limits.maxConfigBytes for a larger header)");
    }
    if (headerLength > size - 8) {
      throw new RefusedFileException(
          file,
          null,
          "truncated: the header says "
              + headerLength
              + " bytes but the file has "
              + (size - 8)
              + " after the length");
    }
    ByteBuffer header = ByteBuffer.allocate((int) headerLength);
    readFully(ch, header, 8, file);
    byte[] bytes = header.array();
    if (bytes[0] != '{') {
      throw new RefusedFileException(file, null, "not a safetensors file: header is not an object");
    }
    JsonNode root = JsonGuard.parseStrict(bytes, file, "header", limits);
    if (!root.isObject()) {
      throw new RefusedFileException(file, "header", "not a JSON object");
    }
    long dataStart = 8 + headerLength;
    long dataSize = size - dataStart;
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = Map.of();
    Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      String name = e.getKey();
      if (name.equals(METADATA)) {
        metadata = metadata(file, e.getValue());
      } else {
        tensors.put(name, tensor(file, name, e.getValue(), dataSize, limits));
      }
    }
    checkOverlaps(file, tensors);
    return new SafetensorsFile(
        file, ch, dataStart, Collections.unmodifiableMap(tensors), Map.copyOf(metadata));
  }

  private static Map<String, String> metadata(Path file, JsonNode node) {
    if (!node.isObject()) {
      throw new RefusedFileException(file, METADATA, "not a JSON object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new RefusedFileException(
            file, METADATA, "value of '" + e.getKey() + "' is not a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static Tensor tensor(
      Path file, String name, JsonNode node, long dataSize, Limits limits) {
    if (!node.isObject()) {
      throw new RefusedFileException(file, name, "not a JSON object");
    }
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsets = node.get("data_offsets");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new RefusedFileException(file, name, "no string 'dtype'");
    }
    String dtype = dtypeNode.asText();
    int width = width(dtype);
    if (width == 0) {
      throw new RefusedFileException(file, name, "unknown dtype '" + dtype + "'");
    }
    if (shapeNode == null || !shapeNode.isArray() || shapeNode.size() > 8) {
      throw new RefusedFileException(file, name, "'shape' is not an array of at most 8 sizes");
    }
    long[] shape = new long[shapeNode.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = natural(file, name, "shape", shapeNode.get(i));
      try {
        count = Math.multiplyExact(count, shape[i]);
      } catch (ArithmeticException ex) {
        throw new RefusedFileException(file, name, "shape overflows: " + shapeNode);
      }
    }
    if (count > limits.maxParameters()) {
      throw new RefusedFileException(
          file,
          name,
          "shape "
              + shapeNode
              + " has "
              + count
              + " elements, more than graft.limits.maxParameters="
              + limits.maxParameters());
    }
    if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw new RefusedFileException(file, name, "'data_offsets' is not [begin, end]");
    }
    long begin = natural(file, name, "data_offsets", offsets.get(0));
    long end = natural(file, name, "data_offsets", offsets.get(1));
    if (begin > end || end > dataSize) {
      throw new RefusedFileException(
          file,
          name,
          "data_offsets ["
              + begin
              + ", "
              + end
              + "] outside the data section of "
              + dataSize
              + " bytes");
    }
    if (end - begin != count * width) {
      throw new RefusedFileException(
          file,
          name,
          "data_offsets ["
              + begin
              + ", "
              + end
              + "] hold "
              + (end - begin)
              + " bytes but "
              + dtype
              + " "
              + shapeNode
              + " needs "
              + count * width);
    }
    return new Tensor(dtype, shape, begin, end);
  }

  private static long natural(Path file, String name, String field, JsonNode n) {
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw new RefusedFileException(
          file, name, "'" + field + "' holds " + n + ", not a non-negative integer");
    }
    return n.asLong();
  }

  private static void checkOverlaps(Path file, Map<String, Tensor> tensors) {
    List<Map.Entry<String, Tensor>> byStart = new ArrayList<>(tensors.entrySet());
    byStart.sort(
        (a, b) -> {
          int c = Long.compare(a.getValue().begin(), b.getValue().begin());
          return c != 0 ? c : Long.compare(a.getValue().end(), b.getValue().end());
        });
    for (int i = 1; i < byStart.size(); i++) {
      Map.Entry<String, Tensor> prev = byStart.get(i - 1);
      Map.Entry<String, Tensor> cur = byStart.get(i);
      Tensor p = prev.getValue();
      Tensor c = cur.getValue();
      // empty tensors occupy no bytes and may share an offset
      if (c.begin() < p.end() && c.end() > c.begin()) {
        throw new RefusedFileException(
            file, cur.getKey(), "its bytes overlap those of '" + prev.getKey() + "'");
      }
    }
  }

  /** Bytes per element of a safetensors dtype, or 0 for an unknown one. */
  private static int width(String dtype) {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2" -> 1;
      default -> 0;
    };
  }

  /** Whether {@link #read} converts this dtype: the float types weights come in. */
  public static boolean readable(String dtype) {
    return dtype.equals("F32") || dtype.equals("F16") || dtype.equals("BF16");
  }

  /** The file this reads. */
  public Path file() {
    return file;
  }

  /** The tensor names, in the header's order ({@code __metadata__} excluded). */
  public List<String> names() {
    return List.copyOf(tensors.keySet());
  }

  /** Whether the file holds a tensor called {@code name}. */
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /**
   * The shape of tensor {@code name} (a copy).
   *
   * @throws IllegalArgumentException when there is no such tensor
   */
  public long[] shape(String name) {
    return tensor(name).shape().clone();
  }

  /**
   * The dtype of tensor {@code name} as the header spells it ({@code F32}, {@code BF16}, {@code
   * I64}, ...).
   *
   * @throws IllegalArgumentException when there is no such tensor
   */
  public String dtype(String name) {
    return tensor(name).dtype();
  }

  /** The header's {@code __metadata__} string map (empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Reads tensor {@code name} as a float32 array of its shape (F16 and BF16 converted exactly),
   * reading only its bytes.
   *
   * @throws IllegalArgumentException when there is no such tensor
   * @throws RefusedFileException when its dtype is not {@link #readable}
   * @throws IOException when the bytes cannot be read (the file shrank since {@link #open})
   */
  public INDArray read(String name) throws IOException {
    Tensor t = tensor(name);
    if (!readable(t.dtype())) {
      throw new RefusedFileException(
          file, name, "dtype " + t.dtype() + " is not F32, F16 or BF16; Graft reads float weights");
    }
    float[] values = readFloats(name, t);
    if (t.shape().length == 0) {
      return Nd4j.scalar(values[0]);
    }
    if (values.length == 0) {
      return Nd4j.create(DataType.FLOAT, t.shape());
    }
    return Nd4j.create(values, t.shape(), 'c');
  }

  private float[] readFloats(String name, Tensor t) throws IOException {
    int width = width(t.dtype());
    long bytes = t.end() - t.begin();
    if (bytes / width > Integer.MAX_VALUE - 8) {
      throw new RefusedFileException(file, name, "too large for one Java array: " + bytes);
    }
    float[] out = new float[(int) (bytes / width)];
    ByteBuffer buf =
        ByteBuffer.allocate((int) Math.min(CHUNK, bytes)).order(ByteOrder.LITTLE_ENDIAN);
    long pos = dataStart + t.begin();
    int k = 0;
    long left = bytes;
    while (left > 0) {
      int n = (int) Math.min(buf.capacity(), left);
      buf.clear().limit(n);
      readFully(channel, buf, pos, file);
      buf.flip();
      switch (t.dtype()) {
        case "F32" -> {
          buf.asFloatBuffer().get(out, k, n / 4);
          k += n / 4;
        }
        case "BF16" -> {
          while (buf.remaining() >= 2) {
            out[k++] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
          }
        }
        default -> {
          while (buf.remaining() >= 2) {
            out[k++] = halfToFloat(buf.getShort());
          }
        }
      }
      pos += n;
      left -= n;
    }
    return out;
  }

  /** IEEE 754 binary16 to float (exact: every half is a float). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // zero or subnormal: mant * 2^-24
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  private Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no tensor '" + name + "' in " + file);
    }
    return t;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file)
      throws IOException {
    long p = pos;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, p);
      if (n < 0) {
        throw new EOFException(file + ": ends at byte " + p + " inside a tensor or the header");
      }
      p += n;
    }
  }

  /** Closes the file; closing twice is safe. */
  @Override
  public void close() throws IOException {
    channel.close();
  }

  @Override
  public String toString() {
    return "SafetensorsFile[" + file + ", " + tensors.size() + " tensors]";
  }
}
