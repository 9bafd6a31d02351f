package dev.graft.train;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Float32 and float64 arrays as raw little-endian values in C order, streamed in 1 MiB chunks with
 * a running digest: the array part of a checkpoint (the shapes are in its JSON).
 */
final class ArrayCodec {
  private static final int CHUNK = 1 << 20;

  private ArrayCodec() {}

  /** Writes {@code a}'s values; returns the bytes written. */
  static long write(INDArray a, OutputStream out, MessageDigest md) throws IOException {
    DataType t = a.dataType();
    if (t != DataType.FLOAT && t != DataType.DOUBLE) {
      throw new GraftException("checkpoints hold float32 and float64 arrays, got " + t);
    }
    INDArray c = a.dup('c');
    ByteBuffer src =
        c.data().asNio().order(ByteOrder.nativeOrder()).limit((int) (c.length() * t.width()));
    byte[] buf = new byte[CHUNK];
    ByteBuffer le = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    long written = 0;
    boolean nativeLittleEndian = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    while (src.hasRemaining()) {
      le.clear();
      if (nativeLittleEndian) {
        // the values are already little-endian: one bulk copy per chunk
        int n = Math.min(buf.length, src.remaining());
        src.get(buf, 0, n);
        le.position(n);
      } else if (t == DataType.FLOAT) {
        while (src.remaining() >= 4 && le.remaining() >= 4) {
          le.putFloat(src.getFloat());
        }
      } else {
        while (src.remaining() >= 8 && le.remaining() >= 8) {
          le.putDouble(src.getDouble());
        }
      }
      out.write(buf, 0, le.position());
      md.update(buf, 0, le.position());
      written += le.position();
    }
    c.close();
    return written;
  }

  /**
   * Reads an array of {@code shape} and type {@code t}, or returns null when the stream ends first.
   */
  static INDArray read(InputStream in, MessageDigest md, long[] shape, DataType t)
      throws IOException {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    int width = t.width();
    long bytes = n * width;
    float[] f = t == DataType.FLOAT ? new float[Math.toIntExact(n)] : null;
    double[] d = t == DataType.DOUBLE ? new double[Math.toIntExact(n)] : null;
    byte[] buf = new byte[CHUNK];
    ByteBuffer le = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    long done = 0;
    int k = 0;
    while (done < bytes) {
      int want = (int) Math.min(buf.length, bytes - done);
      int got = in.readNBytes(buf, 0, want);
      if (got < want) {
        return null;
      }
      md.update(buf, 0, got);
      le.clear().limit(got);
      if (f != null) {
        while (le.remaining() >= 4) {
          f[k++] = le.getFloat();
        }
      } else {
        while (le.remaining() >= 8) {
          d[k++] = le.getDouble();
        }
      }
      done += got;
    }
    return f != null ? Nd4j.create(f, shape, 'c') : Nd4j.create(d, shape, 'c');
  }
}
