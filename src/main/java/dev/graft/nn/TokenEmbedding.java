package dev.graft.nn;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns the patch embedding's map [N, D, h, w] into a vision transformer's tokens [N, 1 + R + h·w,
 * D]: the class token, then R register tokens (DINOv2's {@code _reg} models; 0 otherwise), then the
 * patches in row-major order. Position embeddings are added to the class token and the patches (not
 * to the registers), as in ViT and DINOv2; stored for an M × M grid ({@code pos} [1 + M·M, D], the
 * class token's first), they are resized to h × w by {@link PositionInterpolation} when the input
 * size differs from the one they were trained at. Parameters {@code cls} [1, D], {@code pos}, and
 * {@code reg} [R, D] when R &gt; 0.
 */
public final class TokenEmbedding extends TokenLayer {
  private static final long serialVersionUID = 1L;

  private int grid;
  private int registers;
  private PositionInterpolation interpolation = PositionInterpolation.DINOV2;

  /** For JSON. */
  public TokenEmbedding() {}

  /**
   * Token embedding of width {@code width} (0: from the input's channels).
   *
   * @param grid M, the side of the grid the position embeddings are stored for
   * @param registers R, the number of register tokens (0 for none)
   * @param interpolation how the embeddings follow another grid size
   */
  public TokenEmbedding(long width, int grid, int registers, PositionInterpolation interpolation) {
    super(width);
    this.grid = grid;
    this.registers = registers;
    this.interpolation = interpolation;
  }

  /** M, the side of the stored grid of position embeddings. */
  public int getGrid() {
    return grid;
  }

  /** For JSON. */
  public void setGrid(int grid) {
    this.grid = grid;
  }

  /** R, the number of register tokens. */
  public int getRegisters() {
    return registers;
  }

  /** For JSON. */
  public void setRegisters(int registers) {
    this.registers = registers;
  }

  /** How the position embeddings follow another grid size. */
  public PositionInterpolation getInterpolation() {
    return interpolation;
  }

  /** For JSON. */
  public void setInterpolation(PositionInterpolation interpolation) {
    this.interpolation = interpolation;
  }

  @Override
  protected List<Object> settings() {
    return List.of(grid, registers, interpolation);
  }

  private InputType.InputTypeConvolutional map(InputType in) {
    if (!(in instanceof InputType.InputTypeConvolutional c)) {
      throw new InvalidInputTypeException(
          "TokenEmbedding '" + getLayerName() + "' reads a patch map [N, D, h, w], got " + in);
    }
    return c;
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType in) {
    InputType.InputTypeConvolutional c = map(in);
    return InputType.recurrent(width, 1 + registers + c.getHeight() * c.getWidth(), RNNFormat.NWC);
  }

  @Override
  public void setNIn(InputType in, boolean override) {
    if (width <= 0 || override) {
      width = map(in).getChannels();
    }
  }

  @Override
  public INDArray onesMaskForInput(INDArray input) {
    return Nd4j.ones(input.dataType(), input.size(0), 1, 1, 1);
  }

  @Override
  public void defineParameters(SDLayerParams params) {
    params.addWeightParam("cls", 1, width);
    params.addWeightParam("pos", 1 + (long) grid * grid, width);
    if (registers > 0) {
      params.addWeightParam("reg", registers, width);
    }
  }

  @Override
  protected void initialize(String name, INDArray param) {
    truncatedNormal(param, 0.02);
  }

  @Override
  public SDVariable defineLayer(
      SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
    long[] s = x.getShape(); // [-1, D, h, w]
    int h = (int) s[2];
    int w = (int) s[3];
    SDVariable patches = x.reshape(-1, width, (long) h * w).permute(0, 2, 1); // [N, h·w, D]
    // The class token's and the patches' position embeddings as products with constant
    // matrices, not slices: M2.1's strided_slice_bp gives wrong gradients here.
    int stored = 1 + grid * grid;
    float[][] first = new float[1][stored];
    first[0][0] = 1;
    float[][] rest = new float[h * w][stored];
    if (interpolation.resizes(grid, h, w)) {
      float[][] k = interpolation.matrix(grid, h, w);
      for (int i = 0; i < h * w; i++) {
        System.arraycopy(k[i], 0, rest[i], 1, grid * grid);
      }
    } else {
      for (int i = 0; i < h * w; i++) {
        rest[i][1 + i] = 1;
      }
    }
    SDVariable pos = p.get("pos");
    SDVariable clsPos = constant(sd, first, x).mmul(pos); // [1, D]
    SDVariable patchPos = constant(sd, rest, x).mmul(pos); // [h·w, D]
    patches = patches.add(patchPos.reshape(1, (long) h * w, width));
    SDVariable zero = sd.zerosLike(patches).sum(true, 1); // [N, 1, D] zeros
    SDVariable cls = zero.add(p.get("cls").add(clsPos).reshape(1, 1, width));
    if (registers == 0) {
      return sd.concat(1, cls, patches);
    }
    // registers after the class token, without position embeddings: [N, R, D] by broadcasting
    SDVariable reg = zero.add(p.get("reg").reshape(1, registers, width));
    return sd.concat(1, cls, reg, patches);
  }

  private static SDVariable constant(SameDiff sd, float[][] values, SDVariable like) {
    return sd.constant(Nd4j.create(values).castTo(like.dataType()));
  }
}
