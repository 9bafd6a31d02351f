package dev.graft.perf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.concurrent.ForkJoinTask;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Element-wise passes over dense FP32 ND4J arrays, computed in Java: each thread copies cache-sized
 * chunks out of the native buffers into heap arrays, whose loops the JIT vectorises, and copies the
 * results back. The work is split across the cores.
 *
 * <p>Why: on the small feature maps of fine-tuning (7×7) libnd4j spends most of a per-channel op in
 * its loop over (sample, channel) rows, and a composite formula costs one native pass per operator.
 * A pass here reads and writes each element once. Its users are {@code graph.ChunkedAdam}, the
 * inference-mode BatchNorm of training graphs, and swish; docs/performance.md has their figures.
 */
public final class FloatChunks {
  /** Elements per chunk: a few heap arrays of 16 KiB stay in L1/L2 while a loop runs. */
  public static final int CHUNK = 4096;

  /**
   * From this many channels a channels-last affine map goes row by row; below it a copy per row
   * costs more than the vector loop saves.
   */
  private static final int ROW_WISE_FROM = 32;

  /** Below this many elements one thread does it all: forking costs more than it saves. */
  private static final long PARALLEL_FROM = 1 << 16;

  private FloatChunks() {}

  /** Work over the element range {@code [from, to)} of the arrays a pass walks. */
  @FunctionalInterface
  public interface RangeKernel {
    /**
     * Computes elements {@code from} (inclusive) to {@code to} (exclusive).
     *
     * @param from first element
     * @param to one past the last element
     */
    void run(int from, int to);
  }

  /**
   * Whether {@code a} can be walked by a pass here: FP32, laid out in C order without gaps (so that
   * element {@code i} in C order is the {@code i}-th float in memory, whatever its ordering flag
   * says), and fewer than 2³¹ elements.
   *
   * @param a an array
   * @return whether its memory is one dense run of floats in C order
   */
  public static boolean dense(INDArray a) {
    if (a.dataType() != DataType.FLOAT || a.length() >= Integer.MAX_VALUE || a.isEmpty()) {
      return false;
    }
    // C-order strides, where a dimension of size 1 may carry any stride (ND4J's views do)
    long[] shape = a.shape();
    long[] stride = a.stride();
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /**
   * The elements of a {@link #dense} array as a buffer over its native memory (no copy).
   *
   * @param a a dense FP32 array
   * @return a buffer whose element {@code i} is {@code a}'s element {@code i} in C order
   */
  public static FloatBuffer floats(INDArray a) {
    return bytes(a).asFloatBuffer();
  }

  /**
   * A copy of a {@link #dense} array's elements in C order, in one bulk read.
   *
   * @param a a dense FP32 array
   * @return its elements
   */
  public static float[] values(INDArray a) {
    if (!dense(a)) {
      throw new IllegalArgumentException("a dense FP32 array, got " + a.shapeInfoToString());
    }
    float[] out = new float[(int) a.length()];
    floats(a).get(0, out);
    return out;
  }

  /** A dense FP32 array's native memory, in native byte order. */
  private static ByteBuffer bytes(INDArray a) {
    // a view's data buffer starts at the view's first element already (INDArray.offset() is that
    // buffer's offset, counted in its pointer)
    long start = a.data().addressPointer().address();
    long bytes = a.length() * Float.BYTES;
    return new BytePointer() {
      {
        address = start;
        limit = bytes;
        capacity = bytes;
      }
    }.asByteBuffer().order(ByteOrder.nativeOrder());
  }

  /** As {@link #floats}, the same memory read as the floats' bits. */
  private static IntBuffer ints(INDArray a) {
    return bytes(a).asIntBuffer();
  }

  /**
   * Runs {@code kernel} over {@code [0, n)}, split into one range per core (each a whole number of
   * chunks), on the calling thread and the common fork-join pool.
   *
   * @param n number of elements
   * @param kernel the work for one range
   */
  public static void parallel(long n, RangeKernel kernel) {
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    if (n < PARALLEL_FROM || threads == 1) {
      kernel.run(0, (int) n);
      return;
    }
    ForkJoinTask<?>[] parts = new ForkJoinTask<?>[threads];
    long per = (n + threads - 1) / threads;
    per = (per + CHUNK - 1) / CHUNK * CHUNK;
    for (int i = 0; i < threads; i++) {
      int from = (int) Math.min(n, i * per);
      int to = (int) Math.min(n, from + per);
      parts[i] = ForkJoinTask.adapt(() -> kernel.run(from, to));
    }
    ForkJoinTask.invokeAll(parts);
  }

  /**
   * {@code out = min(max(x, low), high)} element-wise (ReLU with {@code low = 0, high = +∞}, ReLU6
   * with {@code high = 6}); NaN stays NaN, as in DL4J's ReLU (libnd4j's ReLU6 turns it into 6).
   * {@code out} may be {@code x}.
   *
   * @param x dense input
   * @param out dense output of {@code x}'s length
   * @param low lower bound
   * @param high upper bound
   */
  public static void clamp(INDArray x, INDArray out, float low, float high) {
    checkSameLength(x, out);
    FloatBuffer in = floats(x);
    FloatBuffer to = floats(out);
    parallel(
        x.length(),
        (from, end) -> {
          float[] buf = new float[CHUNK];
          for (int start = from; start < end; start += CHUNK) {
            int len = Math.min(CHUNK, end - start);
            in.get(start, buf, 0, len);
            for (int i = 0; i < len; i++) {
              // branch-free (the JIT vectorises Math.max/min): signs are random, branches
              // mispredict
              buf[i] = Math.min(Math.max(buf[i], low), high);
            }
            to.put(start, buf, 0, len);
          }
        });
  }

  /**
   * The gradient of {@link #clamp} with {@code low = 0}: {@code out = 0 < x ≤ high ? epsilon : 0}
   * element-wise (as DL4J differentiates ReLU and ReLU6; 0 where {@code x} is NaN).
   *
   * @param x dense input of the clamp
   * @param epsilon dense gradient at its output
   * @param out dense gradient at its input
   * @param high upper bound, at least 0 ({@code +∞} for ReLU)
   */
  public static void clampGradient(INDArray x, INDArray epsilon, INDArray out, float high) {
    checkSameLength(x, epsilon);
    checkSameLength(x, out);
    if (!(high >= 0f)) {
      throw new IllegalArgumentException("the upper bound must be at least 0, got " + high);
    }
    // on the floats' bits, where a branch per element would mispredict on random signs and the
    // JIT vectorises integer masks: a float above +0 has bits above 0 (as a signed int), and
    // between non-negative floats (infinity included, NaN above it) the bits order as the values
    int highBits = Float.floatToRawIntBits(high);
    IntBuffer in = ints(x);
    IntBuffer eps = ints(epsilon);
    IntBuffer to = ints(out);
    parallel(
        x.length(),
        (from, end) -> {
          int[] bits = new int[CHUNK];
          int[] grad = new int[CHUNK];
          for (int start = from; start < end; start += CHUNK) {
            int len = Math.min(CHUNK, end - start);
            in.get(start, bits, 0, len);
            eps.get(start, grad, 0, len);
            for (int i = 0; i < len; i++) {
              int v = bits[i];
              grad[i] &= ((-v) >> 31) & ((v - highBits - 1) >> 31);
            }
            to.put(start, grad, 0, len);
          }
        });
  }

  private static void checkSameLength(INDArray a, INDArray b) {
    if (!dense(a) || !dense(b) || a.length() != b.length()) {
      throw new IllegalArgumentException(
          "an element-wise pass over dense FP32 arrays of one length, got "
              + a.shapeInfoToString()
              + " and "
              + b.shapeInfoToString());
    }
  }

  /**
   * A per-channel affine map, {@code y = (x - center[c]) * scale[c] + offset[c]}, where element
   * {@code i} (in C order) belongs to channel {@code (i / inner) % channels}: {@code inner} is H·W
   * for NCHW, 1 for NHWC or {@code [N, C]}. {@code y} may be {@code x}.
   *
   * @param x dense input
   * @param y dense output of {@code x}'s length
   * @param channels number of channels
   * @param inner elements per channel run
   * @param center subtracted first, per channel
   * @param scale multiplier, per channel
   * @param offset added last, per channel
   */
  public static void channelAffine(
      INDArray x,
      INDArray y,
      int channels,
      long inner,
      float[] center,
      float[] scale,
      float[] offset) {
    checkSameLength(x, y);
    FloatBuffer in = floats(x);
    FloatBuffer out = floats(y);
    if (inner == 1 && channels >= ROW_WISE_FROM && x.length() % channels == 0) {
      // channels last: one row of channels at a time, in arrays indexed from 0, which the JIT
      // vectorises (a chunk walked from a varying channel offset ran scalar, JDK 17)
      forRows(
          x.length() / channels,
          channels,
          (r0, r1) -> {
            float[] row = new float[channels];
            for (long r = r0; r < r1; r++) {
              in.get((int) (r * channels), row, 0, channels);
              affineRow(row, center, scale, offset);
              out.put((int) (r * channels), row, 0, channels);
            }
          });
      return;
    }
    parallel(
        x.length(),
        (from, to) -> {
          float[] buf = new float[CHUNK];
          for (int start = from; start < to; start += CHUNK) {
            int len = Math.min(CHUNK, to - start);
            in.get(start, buf, 0, len);
            affineChunk(buf, start, len, channels, inner, center, scale, offset);
            out.put(start, buf, 0, len);
          }
        });
  }

  /** {@code row[c] = (row[c] - center[c]) * scale[c] + offset[c]} over one row of channels. */
  private static void affineRow(float[] row, float[] center, float[] scale, float[] offset) {
    for (int c = 0; c < row.length; c++) {
      row[c] = (row[c] - center[c]) * scale[c] + offset[c];
    }
  }

  /** The affine map over one chunk, in runs that share a channel or walk the channels in order. */
  private static void affineChunk(
      float[] buf,
      long start,
      int len,
      int channels,
      long inner,
      float[] center,
      float[] scale,
      float[] offset) {
    int i = 0;
    while (i < len) {
      long pos = start + i;
      if (inner == 1) {
        // channels last: a run of consecutive channels, from c0 to the last or the chunk's end
        int c0 = (int) (pos % channels);
        int run = Math.min(len - i, channels - c0);
        for (int k = 0; k < run; k++) {
          buf[i + k] = (buf[i + k] - center[c0 + k]) * scale[c0 + k] + offset[c0 + k];
        }
        i += run;
      } else {
        // channels first: a run of one channel's elements
        long row = pos / inner;
        int c = (int) (row % channels);
        int run = (int) Math.min(len - i, (row + 1) * inner - pos);
        float m = center[c];
        float s = scale[c];
        float o = offset[c];
        for (int k = i; k < i + run; k++) {
          buf[k] = (buf[k] - m) * s + o;
        }
        i += run;
      }
    }
  }

  /**
   * The mean of each run of {@code rowLength} consecutive elements of {@code x}: {@code out[r]} is
   * the mean of {@code x[r·rowLength] .. x[(r+1)·rowLength - 1]} (global average pooling of NCHW
   * maps, one row per sample and channel).
   *
   * @param x dense input of {@code out.length() · rowLength} elements
   * @param out dense output, one element per row
   * @param rowLength elements per row
   */
  public static void rowMeans(INDArray x, INDArray out, long rowLength) {
    checkRows(x, out, rowLength);
    rowSums(floats(x), null, floats(out), out.length(), rowLength, rowLength);
  }

  /**
   * The dot product of each run of {@code rowLength} consecutive elements of {@code x} and {@code
   * y}: {@code out[r] = Σ x[i]·y[i]} over row {@code r} (the gradient of a per-(sample, channel)
   * factor of an NCHW map).
   *
   * @param x dense input of {@code out.length() · rowLength} elements
   * @param y dense input of {@code x}'s length
   * @param out dense output, one element per row
   * @param rowLength elements per row
   */
  public static void rowDots(INDArray x, INDArray y, INDArray out, long rowLength) {
    checkRows(x, out, rowLength);
    checkRows(y, out, rowLength);
    rowSums(floats(x), floats(y), floats(out), out.length(), rowLength, 1);
  }

  /** Row sums of {@code x} (times {@code y} where given), each divided by {@code divisor}. */
  private static void rowSums(
      FloatBuffer x, FloatBuffer y, FloatBuffer out, long rowCount, long rowLength, long divisor) {
    forRows(
        rowCount,
        rowLength,
        (r0, r1) -> {
          float[] buf = new float[(int) Math.min(CHUNK, rowLength * (r1 - r0))];
          float[] other = y == null ? null : new float[buf.length];
          float[] sums = new float[(int) (r1 - r0)];
          int perBlock = (int) Math.max(1, CHUNK / rowLength);
          for (long r = r0; r < r1; r += perBlock) {
            int rows = (int) Math.min(perBlock, r1 - r);
            if (rowLength <= CHUNK) {
              int len = (int) (rows * rowLength);
              x.get((int) (r * rowLength), buf, 0, len);
              if (y != null) {
                y.get((int) (r * rowLength), other, 0, len);
                for (int i = 0; i < len; i++) {
                  buf[i] *= other[i];
                }
              }
              for (int k = 0; k < rows; k++) {
                sums[(int) (r - r0) + k] = sum(buf, (int) (k * rowLength), (int) rowLength);
              }
            } else {
              double total = 0;
              for (long at = r * rowLength; at < (r + 1) * rowLength; at += CHUNK) {
                int len = (int) Math.min(CHUNK, (r + 1) * rowLength - at);
                x.get((int) at, buf, 0, len);
                if (y != null) {
                  y.get((int) at, other, 0, len);
                  for (int i = 0; i < len; i++) {
                    buf[i] *= other[i];
                  }
                }
                total += sum(buf, 0, len);
              }
              sums[(int) (r - r0)] = (float) total;
            }
          }
          if (divisor != 1) {
            for (int k = 0; k < sums.length; k++) {
              sums[k] /= divisor;
            }
          }
          out.put((int) r0, sums, 0, sums.length);
        });
  }

  /**
   * The gradient of {@link #rowMeans}: each row of {@code out} filled with {@code values[r] /
   * divisor} (divided, as DL4J's average pooling divides).
   *
   * @param values dense, one element per row
   * @param out dense output of {@code values.length() · rowLength} elements
   * @param rowLength elements per row
   * @param divisor what each value is divided by
   */
  public static void spreadRows(INDArray values, INDArray out, long rowLength, float divisor) {
    checkRows(out, values, rowLength);
    FloatBuffer from = floats(values);
    FloatBuffer to = floats(out);
    forRows(
        values.length(),
        rowLength,
        (r0, r1) -> {
          float[] row = new float[(int) (r1 - r0)];
          from.get((int) r0, row, 0, row.length);
          float[] buf = new float[(int) Math.min(CHUNK, rowLength * (r1 - r0))];
          int perBlock = (int) Math.max(1, CHUNK / rowLength);
          for (long r = r0; r < r1; r += perBlock) {
            int rows = (int) Math.min(perBlock, r1 - r);
            if (rowLength <= CHUNK) {
              for (int k = 0; k < rows; k++) {
                java.util.Arrays.fill(
                    buf,
                    (int) (k * rowLength),
                    (int) ((k + 1) * rowLength),
                    row[(int) (r - r0) + k] / divisor);
              }
              to.put((int) (r * rowLength), buf, 0, (int) (rows * rowLength));
            } else {
              java.util.Arrays.fill(buf, row[(int) (r - r0)] / divisor);
              for (long at = r * rowLength; at < (r + 1) * rowLength; at += CHUNK) {
                to.put((int) at, buf, 0, (int) Math.min(CHUNK, (r + 1) * rowLength - at));
              }
            }
          }
        });
  }

  /**
   * {@code out[j][i][...] = x[i][j][...]}: the first two axes swapped, as a copy ({@code x}'s
   * batch-major activations {@code [n, c, h, w]} laid out channel-major, {@code [c, n, h, w]}).
   * Each {@code [...]} block is contiguous in both arrays and copied in one bulk move; libnd4j's
   * copy of a permuted view walks it element by element (2.4 ms a step on the EfficientNetB0 block
   * row, JFR).
   *
   * @param x dense, rank 2 or more
   * @param out dense, {@code x}'s shape with its first two sizes swapped
   */
  public static void swapLeadingAxes(INDArray x, INDArray out) {
    long[] shape = x.shape();
    long[] swapped = out.shape();
    if (!dense(x)
        || !dense(out)
        || shape.length < 2
        || swapped.length != shape.length
        || swapped[0] != shape[1]
        || swapped[1] != shape[0]
        || x.length() != out.length()) {
      throw new IllegalArgumentException(
          "dense FP32 arrays [a, b, ...] and [b, a, ...], got "
              + x.shapeInfoToString()
              + " and "
              + out.shapeInfoToString());
    }
    long a = shape[0];
    long b = shape[1];
    long block = x.length() / (a * b);
    FloatBuffer from = floats(x);
    FloatBuffer to = floats(out);
    forRows(
        a * b,
        block,
        (r0, r1) -> {
          for (long r = r0; r < r1; r++) {
            long i = r / b;
            long j = r % b;
            to.put((int) ((j * a + i) * block), from, (int) (r * block), (int) block);
          }
        });
  }

  /** Work over the rows {@code [from, to)}. */
  @FunctionalInterface
  interface RowKernel {
    void run(long from, long to);
  }

  /** {@link #parallel} over whole rows: each thread takes the rows that start in its range. */
  static void forRows(long rows, long rowLength, RowKernel kernel) {
    parallel(
        rows * rowLength,
        (from, to) -> {
          long r0 = (from + rowLength - 1) / rowLength;
          long r1 = (to + rowLength - 1) / rowLength;
          if (r0 < r1) {
            kernel.run(r0, r1);
          }
        });
  }

  private static void checkRows(INDArray rowsArray, INDArray perRow, long rowLength) {
    if (!dense(rowsArray)
        || !dense(perRow)
        || rowLength < 1
        || perRow.length() * rowLength != rowsArray.length()) {
      throw new IllegalArgumentException(
          "rows of "
              + rowLength
              + " over dense FP32 arrays, got "
              + rowsArray.shapeInfoToString()
              + " and "
              + perRow.shapeInfoToString());
    }
  }

  /** The sum of {@code len} elements from {@code at}, in four running sums (not one long chain). */
  private static float sum(float[] buf, int at, int len) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int j = at;
    int end = at + len;
    for (; j + 3 < end; j += 4) {
      s0 += buf[j];
      s1 += buf[j + 1];
      s2 += buf[j + 2];
      s3 += buf[j + 3];
    }
    for (; j < end; j++) {
      s0 += buf[j];
    }
    return (s0 + s1) + (s2 + s3);
  }
}
