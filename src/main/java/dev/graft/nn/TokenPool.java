package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

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
    long d = x.getShape()[2];
    SDVariable cls = x.get(SDIndex.all(), SDIndex.interval(0, 1), SDIndex.all()).reshape(-1, d);
    if (mode == Mode.CLASS_TOKEN) {
      return cls;
    }
    long t = x.getShape()[1];
    SDVariable patches = x.get(SDIndex.all(), SDIndex.interval(1L + registers, t), SDIndex.all());
    return sd.concat(1, cls, patches.mean(1));
  }
}
