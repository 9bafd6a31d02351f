package dev.graft.perf;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The per-(sample, channel) passes of global average pooling and squeeze-and-excitation over
 * channels-last (NHWC) maps, in Java as {@link FloatChunks} does them for NCHW: a map is {@code [n,
 * h·w, c]}, and each sample's {@code h·w} rows of {@code c} channels are reduced into, or scaled
 * by, one row of {@code c}. libnd4j reduces and broadcasts over NHWC maps with strided loops, or
 * DL4J copies them to NCHW first.
 */
public final class ChannelsLastPasses {
  private ChannelsLastPasses() {}

  /**
   * Global average pooling: {@code out[s][c]} is the mean over {@code r} of {@code x[s][r][c]}.
   *
   * @param x dense, {@code [samples, rows, columns]} (an NHWC map has {@code rows = h·w})
   * @param out dense, {@code [samples, columns]}
   * @param rows rows per sample
   * @param columns elements per row (channels)
   */
  public static void columnMeans(INDArray x, INDArray out, long rows, int columns) {
    check(x, out, rows, columns);
    columnSums(
        FloatChunks.floats(x),
        null,
        FloatChunks.floats(out),
        out.length() / columns,
        rows,
        columns,
        rows);
  }

  /**
   * The gradient of a per-(sample, channel) factor: {@code out[s][c] = Σ_r x[s][r][c]·y[s][r][c]}.
   *
   * @param x dense, {@code [samples, rows, columns]}
   * @param y dense, as {@code x}
   * @param out dense, {@code [samples, columns]}
   * @param rows rows per sample
   * @param columns elements per row (channels)
   */
  public static void columnDots(INDArray x, INDArray y, INDArray out, long rows, int columns) {
    check(x, out, rows, columns);
    check(y, out, rows, columns);
    columnSums(
        FloatChunks.floats(x),
        FloatChunks.floats(y),
        FloatChunks.floats(out),
        out.length() / columns,
        rows,
        columns,
        1);
  }

  /** Sums over each sample's rows (of products where {@code y} is given), over {@code divisor}. */
  private static void columnSums(
      FloatBuffer x,
      FloatBuffer y,
      FloatBuffer out,
      long samples,
      long rows,
      int columns,
      long divisor) {
    FloatChunks.forRows(
        samples,
        rows * columns,
        (s0, s1) -> {
          float[] sums = new float[columns];
          float[] row = new float[columns];
          float[] other = y == null ? null : new float[columns];
          for (long s = s0; s < s1; s++) {
            Arrays.fill(sums, 0f);
            for (long r = 0; r < rows; r++) {
              int at = (int) ((s * rows + r) * columns);
              x.get(at, row, 0, columns);
              if (other == null) {
                for (int c = 0; c < columns; c++) {
                  sums[c] += row[c];
                }
              } else {
                y.get(at, other, 0, columns);
                for (int c = 0; c < columns; c++) {
                  sums[c] += row[c] * other[c];
                }
              }
            }
            if (divisor != 1) {
              for (int c = 0; c < columns; c++) {
                sums[c] /= divisor;
              }
            }
            out.put((int) (s * columns), sums, 0, columns);
          }
        });
  }

  /**
   * The gradient of {@link #columnMeans}: each of a sample's rows of {@code out} is {@code
   * values[s] / divisor}.
   *
   * @param values dense, {@code [samples, columns]}
   * @param out dense, {@code [samples, rows, columns]}
   * @param rows rows per sample
   * @param columns elements per row (channels)
   * @param divisor what each value is divided by
   */
  public static void spreadColumns(
      INDArray values, INDArray out, long rows, int columns, float divisor) {
    check(out, values, rows, columns);
    FloatBuffer from = FloatChunks.floats(values);
    FloatBuffer to = FloatChunks.floats(out);
    FloatChunks.forRows(
        values.length() / columns,
        rows * columns,
        (s0, s1) -> {
          float[] row = new float[columns];
          for (long s = s0; s < s1; s++) {
            from.get((int) (s * columns), row, 0, columns);
            for (int c = 0; c < columns; c++) {
              row[c] /= divisor;
            }
            for (long r = 0; r < rows; r++) {
              to.put((int) ((s * rows + r) * columns), row, 0, columns);
            }
          }
        });
  }

  /**
   * Squeeze-and-excitation's product: {@code out[s][r][c] = x[s][r][c]·factors[s][c]}. {@code out}
   * may be {@code x}.
   *
   * @param x dense, {@code [samples, rows, columns]}
   * @param factors dense, {@code [samples, columns]}
   * @param out dense, as {@code x}
   * @param rows rows per sample
   * @param columns elements per row (channels)
   */
  public static void scaleColumns(
      INDArray x, INDArray factors, INDArray out, long rows, int columns) {
    check(x, factors, rows, columns);
    check(out, factors, rows, columns);
    FloatBuffer in = FloatChunks.floats(x);
    FloatBuffer f = FloatChunks.floats(factors);
    FloatBuffer to = FloatChunks.floats(out);
    FloatChunks.forRows(
        factors.length() / columns,
        rows * columns,
        (s0, s1) -> {
          float[] scale = new float[columns];
          float[] row = new float[columns];
          for (long s = s0; s < s1; s++) {
            f.get((int) (s * columns), scale, 0, columns);
            for (long r = 0; r < rows; r++) {
              int at = (int) ((s * rows + r) * columns);
              in.get(at, row, 0, columns);
              for (int c = 0; c < columns; c++) {
                row[c] *= scale[c];
              }
              to.put(at, row, 0, columns);
            }
          }
        });
  }

  /**
   * The weight gradient of a stride-1 depthwise convolution (one filter per channel) of
   * channels-last maps: {@code out[i][j][c] = Σ x[s][y + i - padH][x + j - padW][c]·δ[s][y][x][c]}
   * over the samples and the output positions whose input lies inside the map (zero padding). The
   * output map has the input's size.
   *
   * @param x dense input, {@code [samples, h, w, c]}
   * @param delta dense errors at the output, {@code [samples, h, w, c]}
   * @param kernelH kernel height
   * @param kernelW kernel width
   * @param padH zero rows above (and below) the map
   * @param padW zero columns left (and right) of the map
   * @param out dense, {@code kernelH · kernelW · c} elements in the order {@code [kh, kw, c]}
   */
  public static void depthwiseWeightGradient(
      INDArray x, INDArray delta, int kernelH, int kernelW, int padH, int padW, INDArray out) {
    long[] shape = x.shape();
    if (shape.length != 4
        || !Arrays.equals(shape, delta.shape())
        || !FloatChunks.dense(x)
        || !FloatChunks.dense(delta)
        || !FloatChunks.dense(out)
        || out.length() != (long) kernelH * kernelW * shape[3]
        || (long) shape[1] * shape[2] * shape[3] > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "dense FP32 [n, h, w, c] input and errors and a ["
              + kernelH
              + ", "
              + kernelW
              + ", c] gradient, got "
              + x.shapeInfoToString()
              + ", "
              + delta.shapeInfoToString()
              + " and "
              + out.shapeInfoToString());
    }
    int h = (int) shape[1];
    int w = (int) shape[2];
    int c = (int) shape[3];
    int plane = h * w * c;
    FloatBuffer in = FloatChunks.floats(x);
    FloatBuffer errors = FloatChunks.floats(delta);
    int taps = kernelH * kernelW;
    // each thread's sums, by its first sample, added in that order: the same bits on every run
    Map<Long, float[][]> parts = new ConcurrentSkipListMap<>();
    FloatChunks.forRows(
        shape[0],
        plane,
        (s0, s1) -> {
          // one array per pixel and per tap: the JIT vectorises a loop over arrays indexed from
          // 0, not over one array at a varying offset (4-7x slower, JDK 17)
          float[][] sums = new float[taps][c];
          float[][] xs = new float[h * w][c];
          float[][] ds = new float[h * w][c];
          for (long s = s0; s < s1; s++) {
            for (int p = 0; p < h * w; p++) {
              in.get((int) (s * plane + (long) p * c), xs[p], 0, c);
              errors.get((int) (s * plane + (long) p * c), ds[p], 0, c);
            }
            for (int i = 0; i < kernelH; i++) {
              for (int j = 0; j < kernelW; j++) {
                float[] tap = sums[i * kernelW + j];
                // output rows and columns whose input row y + i - padH, column x + j - padW exists
                for (int y = Math.max(0, padH - i); y < Math.min(h, h + padH - i); y++) {
                  for (int col = Math.max(0, padW - j); col < Math.min(w, w + padW - j); col++) {
                    addProducts(tap, ds[y * w + col], xs[(y + i - padH) * w + col + j - padW]);
                  }
                }
              }
            }
          }
          parts.put(s0, sums);
        });
    float[] total = new float[(int) out.length()];
    for (float[][] part : parts.values()) {
      for (int t = 0; t < taps; t++) {
        for (int k = 0; k < c; k++) {
          total[t * c + k] += part[t][k];
        }
      }
    }
    FloatChunks.floats(out).put(0, total, 0, total.length);
  }

  /** {@code sums[k] += a[k]·b[k]} over {@code sums}' length. */
  private static void addProducts(float[] sums, float[] a, float[] b) {
    for (int k = 0; k < sums.length; k++) {
      sums[k] += a[k] * b[k];
    }
  }

  private static void check(INDArray map, INDArray perSample, long rows, int columns) {
    if (!FloatChunks.dense(map)
        || !FloatChunks.dense(perSample)
        || rows < 1
        || columns < 1
        || perSample.length() % columns != 0
        || perSample.length() * rows != map.length()) {
      throw new IllegalArgumentException(
          "[samples, "
              + rows
              + ", "
              + columns
              + "] and [samples, "
              + columns
              + "] dense FP32 arrays, got "
              + map.shapeInfoToString()
              + " and "
              + perSample.shapeInfoToString());
    }
  }
}
