package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A vision transformer's features from its (normalised) tokens [N, T, D]: the class token [N, D]
 * (what ViT's and DINOv2's classifiers read, DINOv2's {@code x_norm_clstoken}), or the class token
 * followed by the mean of the patch tokens [N, 2D] (DINOv2's linear evaluation). Register tokens,
 * between the two, are skipped. No parameters.
 */
public final class TokenPool extends TokenLayer {
  private static final long serialVersionUID = 1L;

  /** What the pool outputs. */
  public enum Mode {
    /** The class token. */
    CLASS_TOKEN,
    /** The class token, then the mean patch token. */
    CLASS_AND_MEAN_PATCH
  }

  private Mode mode = Mode.CLASS_TOKEN;
  private int registers;

  /** For JSON. */
  public TokenPool() {}

  /**
   * A pool of {@code mode} over tokens with {@code registers} register tokens after the class
   * token.
   */
  public TokenPool(Mode mode, int registers) {
    super(0);
    this.mode = mode;
    this.registers = registers;
  }

  /** What the pool outputs. */
  public Mode getMode() {
    return mode;
  }

  /** For JSON. */
  public void setMode(Mode mode) {
    this.mode = mode;
  }

  /** The register tokens after the class token. */
  public int getRegisters() {
    return registers;
  }

  /** For JSON. */
  public void setRegisters(int registers) {
    this.registers = registers;
  }

  @Override
  protected List<Object> settings() {
    return List.of(mode, registers);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType in) {
    long d = tokens(in).getSize();
    return InputType.feedForward(mode == Mode.CLASS_TOKEN ? d : 2 * d);
  }

  @Override
  public void defineParameters(SDLayerParams params) {
    // none
  }

  @Override
  protected void initialize(String name, INDArray param) {
    // no parameters
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    long[] shape = x.getShape();
    int t = (int) shape[1];
    long d = shape[2];
    // a product with a constant [T, k] selection, not slices: M2.1's strided_slice_bp gives
    // wrong gradients here. Column 0 picks the class token; column 1 averages the patches.
    int k = mode == Mode.CLASS_TOKEN ? 1 : 2;
    float[][] select = new float[t][k];
    select[0][0] = 1;
    if (k == 2) {
      for (int i = 1 + registers; i < t; i++) {
        select[i][1] = 1f / (t - 1 - registers);
      }
    }
    SDVariable columns = x.permute(0, 2, 1).reshape(-1, t); // [N·D, T]
    SDVariable picked = columns.mmul(sd.constant(Nd4j.create(select).castTo(x.dataType())));
    // [N·D, k] -> [N, D, k] -> [N, k, D] -> [N, k·D]: class token first, then the mean
    return picked.reshape(-1, d, k).permute(0, 2, 1).reshape(-1, k * d);
  }
}
