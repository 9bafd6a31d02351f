package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Multi-head self-attention over tokens [N, T, D], as timm's and DINOv2's {@code Attention} and
 * torchvision's {@code nn.MultiheadAttention} compute it: one projection to queries, keys and
 * values ({@code qkvW} [D, 3D] in that order, {@code qkvB} [1, 3D]), per head {@code softmax(q·kᵀ /
 * √d)·v} with d = D / heads, the heads concatenated and projected ({@code projW} [D, D], {@code
 * projB} [1, D]). Weights are DL4J's [in, out]: PyTorch's {@code Linear.weight} transposed.
 */
public final class SelfAttention extends TokenLayer {
  private static final long serialVersionUID = 1L;

  private int heads;

  /** For JSON. */
  public SelfAttention() {}

  /**
   * Self-attention over tokens of width {@code width} (0: from the input type).
   *
   * @param heads number of heads; must divide the width
   */
  public SelfAttention(long width, int heads) {
    super(width);
    this.heads = heads;
  }

  /** Number of heads. */
  public int getHeads() {
    return heads;
  }

  /** For JSON. */
  public void setHeads(int heads) {
    this.heads = heads;
  }

  @Override
  protected List<Object> settings() {
    return List.of(heads);
  }

  @Override
  public void defineParameters(SDLayerParams params) {
    if (heads < 1 || width % heads != 0) {
      throw new IllegalStateException(
          "SelfAttention '" + getLayerName() + "': " + heads + " heads do not divide " + width);
    }
    params.addWeightParam("qkvW", width, 3 * width);
    params.addBiasParam("qkvB", 1, 3 * width);
    params.addWeightParam("projW", width, width);
    params.addBiasParam("projB", 1, width);
  }

  @Override
  protected void initialize(String name, INDArray param) {
    if (name.endsWith("W")) {
      truncatedNormal(param, 0.02);
    } else {
      param.assign(0);
    }
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    long t = x.getShape()[1];
    long d = width / heads;
    SDVariable qkv = x.reshape(-1, width).mmul(p.get("qkvW")).add(p.get("qkvB"));
    // [N·T, 3D] -> [3, N, heads, T, d]
    qkv = qkv.reshape(-1, t, 3, heads, d).permute(2, 0, 3, 1, 4);
    // unstack, not strided slices: M2.1's strided_slice_bp fails on these point indices
    SDVariable[] parts = sd.unstack(qkv, 0, 3);
    SDVariable q = parts[0].reshape(-1, t, d).mul(1.0 / Math.sqrt(d));
    SDVariable k = parts[1].reshape(-1, t, d);
    SDVariable v = parts[2].reshape(-1, t, d);
    SDVariable attention = sd.nn().softmax(sd.mmul(q, k, false, true, false), 2);
    SDVariable heads = sd.mmul(attention, v); // [N·heads, T, d]
    SDVariable merged = heads.reshape(-1, this.heads, t, d).permute(0, 2, 1, 3).reshape(-1, width);
    return merged.mmul(p.get("projW")).add(p.get("projB")).reshape(-1, t, width);
  }
}
