package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Multi-head self-attention over tokens [N, T, D], as timm's and DINOv2's {@code Attention} and
 * torchvision's {@code nn.MultiheadAttention} compute it: one projection to queries, keys and
 * values ({@code qW}, {@code kW}, {@code vW} [D, D], {@code qB}, {@code kB}, {@code vB} [1, D]; the
 * publishers' fused {@code qkv} projection is split on loading), per head {@code softmax(q·kᵀ /
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

  /** The parameters, each [D, D] or [1, D]: queries, keys, values, output projection. */
  private static final String[] WEIGHTS = {"qW", "kW", "vW", "projW"};

  @Override
  public void defineParameters(SDLayerParams params) {
    if (heads < 1 || width % heads != 0) {
      throw new IllegalStateException(
          "SelfAttention '" + getLayerName() + "': " + heads + " heads do not divide " + width);
    }
    for (String w : WEIGHTS) {
      params.addWeightParam(w, width, width);
      params.addBiasParam(w.substring(0, w.length() - 1) + "B", 1, width);
    }
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    long t = x.getShape()[1];
    long d = width / heads;
    SDVariable rows = x.reshape(-1, width); // [N·T, D]
    SDVariable q = perHead(rows.mmul(p.get("qW")).add(p.get("qB")), t, d).mul(1.0 / Math.sqrt(d));
    SDVariable k = perHead(rows.mmul(p.get("kW")).add(p.get("kB")), t, d);
    SDVariable v = perHead(rows.mmul(p.get("vW")).add(p.get("vB")), t, d);
    SDVariable attention = sd.nn().softmax(sd.mmul(q, k, false, true, false), 2);
    SDVariable out = sd.mmul(attention, v); // [N·heads, T, d]
    SDVariable merged = out.reshape(-1, heads, t, d).permute(0, 2, 1, 3).reshape(-1, width);
    return merged.mmul(p.get("projW")).add(p.get("projB")).reshape(-1, t, width);
  }

  /** [N·T, D] to [N·heads, T, d]. */
  private SDVariable perHead(SDVariable rows, long t, long d) {
    return rows.reshape(-1, t, heads, d).permute(0, 2, 1, 3).reshape(-1, t, d);
  }
}
