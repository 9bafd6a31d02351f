package dev.graft.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes real {@code .safetensors} files for tests (float32, or BF16/F16 by rounding), in the
 * format PyTorch's {@code safetensors.torch.save_file} writes: 8-byte little-endian header length,
 * JSON header padded with spaces to a multiple of 8, then the tensors' bytes in order.
 */
public final class SafetensorsWriter {
  private final Map<String, INDArray> tensors = new LinkedHashMap<>();
  private final Map<String, String> dtypes = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  /** Adds a float32 tensor. */
  public SafetensorsWriter add(String name, INDArray value) {
    return add(name, value, "F32");
  }

  /** Adds a tensor stored as {@code dtype} (F32, F16 or BF16). */
  public SafetensorsWriter add(String name, INDArray value, String dtype) {
    tensors.put(name, value.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c'));
    dtypes.put(name, dtype);
    return this;
  }

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** The header JSON this writer would write. */
  public String header() {
    StringBuilder h = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      h.append("\"__metadata__\":{");
      int i = 0;
      for (var e : metadata.entrySet()) {
        h.append(i++ > 0 ? "," : "")
            .append('"')
            .append(e.getKey())
            .append("\":\"")
            .append(e.getValue())
            .append('"');
      }
      h.append("}");
    }
    long offset = 0;
    for (var e : tensors.entrySet()) {
      long bytes = e.getValue().length() * (dtypes.get(e.getKey()).equals("F32") ? 4 : 2);
      if (h.length() > 1) {
        h.append(',');
      }
      h.append('"').append(e.getKey()).append("\":{\"dtype\":\"").append(dtypes.get(e.getKey()));
      h.append("\",\"shape\":[");
      long[] shape = e.getValue().shape();
      for (int i = 0; i < shape.length; i++) {
        h.append(i > 0 ? "," : "").append(shape[i]);
      }
      h.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes);
      h.append("]}");
      offset += bytes;
    }
    return h.append('}').toString();
  }

  /** Writes the file with {@link #header()}. */
  public Path write(Path file) throws IOException {
    return write(file, header());
  }

  /** Writes the file with {@code header} in place of the real one (for hostile files). */
  public Path write(Path file, String header) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    try (OutputStream out = Files.newOutputStream(file)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      len.putLong(padded);
      out.write(len.array());
      out.write(json);
      for (int i = json.length; i < padded; i++) {
        out.write(' ');
      }
      for (var e : tensors.entrySet()) {
        float[] v = e.getValue().data().asFloat();
        String dtype = dtypes.get(e.getKey());
        ByteBuffer b =
            ByteBuffer.allocate(v.length * (dtype.equals("F32") ? 4 : 2))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
          switch (dtype) {
            case "F32" -> b.putFloat(f);
            case "BF16" -> b.putShort((short) (Float.floatToIntBits(f) >>> 16));
            default -> b.putShort(floatToHalf(f));
          }
        }
        out.write(b.array());
      }
    }
    return file;
  }

  /** Float to IEEE half by truncation (tests use values exactly representable in half). */
  static short floatToHalf(float f) {
    int bits = Float.floatToIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = ((bits >>> 23) & 0xff) - 127 + 15;
    int mant = (bits >>> 13) & 0x3ff;
    if (f == 0f) {
      return (short) sign;
    }
    if (exp <= 0) {
      // subnormal half
      int m = (bits & 0x7fffff) | 0x800000;
      return (short) (sign | (m >>> (14 - exp)));
    }
    return (short) (sign | (exp << 10) | mant);
  }
}
