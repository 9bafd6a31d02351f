package dev.graft.nn;

/**
 * How learned position embeddings stored for an M × M grid of patches are resized to the grid of
 * another input size: bicubic (Keys' kernel, a = −0.75, borders clamped), as PyTorch's {@code
 * F.interpolate(mode="bicubic")} computes it, with each publisher's choice of coordinates. Because
 * the input size is fixed when a graph is built, the resize is a constant linear map, {@link
 * #matrix}, applied to the embeddings inside the graph (so fine-tuning still trains them).
 */
public enum PositionInterpolation {
  /**
   * DINOv2's {@code interpolate_pos_encoding}: {@code scale_factor = (n + 0.1) / M} with {@code
   * align_corners=False}; no resize when the grid is already M × M.
   */
  DINOV2,
  /**
   * torchvision's {@code interpolate_embeddings} (used to load ViT weights at another size): {@code
   * size = n} with {@code align_corners=True}.
   */
  TORCHVISION;

  private static final double A = -0.75;

  /**
   * The [n, m] matrix that resizes a line of {@code m} embeddings to {@code n}: row i holds the
   * weights of output position i.
   */
  public double[][] weights(int m, int n) {
    double[][] w = new double[n][m];
    if (m == n && this == DINOV2) {
      for (int i = 0; i < n; i++) {
        w[i][i] = 1;
      }
      return w;
    }
    for (int i = 0; i < n; i++) {
      double src =
          switch (this) {
            case DINOV2 -> (i + 0.5) * m / (n + 0.1) - 0.5;
            case TORCHVISION -> n > 1 ? i * (double) (m - 1) / (n - 1) : 0;
          };
      double f = Math.floor(src);
      double t = src - f;
      double[] c = {far(t + 1), near(t), near(1 - t), far(2 - t)};
      for (int k = 0; k < 4; k++) {
        int at = (int) Math.min(Math.max(f - 1 + k, 0), m - 1);
        w[i][at] += c[k];
      }
    }
    return w;
  }

  /**
   * The [h·w, m·m] matrix that resizes an m × m grid of embeddings (row-major) to h × w: the
   * Kronecker product of the row and column weights.
   */
  public float[][] matrix(int m, int h, int w) {
    double[][] rows = weights(m, h);
    double[][] cols = weights(m, w);
    float[][] k = new float[h * w][m * m];
    for (int i = 0; i < h; i++) {
      for (int j = 0; j < w; j++) {
        for (int a = 0; a < m; a++) {
          for (int b = 0; b < m; b++) {
            k[i * w + j][a * m + b] = (float) (rows[i][a] * cols[j][b]);
          }
        }
      }
    }
    return k;
  }

  /** Whether an m × m grid needs resizing to h × w. */
  public boolean resizes(int m, int h, int w) {
    return h != m || w != m;
  }

  private static double near(double x) {
    return ((A + 2) * x - (A + 3)) * x * x + 1;
  }

  private static double far(double x) {
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  }
}
