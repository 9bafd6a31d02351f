package dev.graft.base.vit;

import dev.graft.error.GraftException;
import dev.graft.nn.PositionInterpolation;
import dev.graft.nn.ResidualVertex;
import dev.graft.nn.SelfAttention;
import dev.graft.nn.TokenEmbedding;
import dev.graft.nn.TokenLayerNorm;
import dev.graft.nn.TokenLayerScale;
import dev.graft.nn.TokenPool;
import dev.graft.nn.TransformerMlp;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * A vision transformer (Dosovitskiy et al. 2020) as a DL4J graph, in the pre-norm layout ViT, timm
 * and DINOv2 share: a patch embedding (a P × P convolution with stride P), the class token,
 * optional register tokens and position embeddings ({@link TokenEmbedding}), {@code depth} blocks
 * of {@code x + attn(norm1(x))} then {@code x + mlp(norm2(x))} (each branch optionally
 * layer-scaled, each residual with stochastic depth in training), a final LayerNorm and a {@link
 * TokenPool}.
 *
 * <p>Vertex names: {@code patch_embed}, {@code tokens}, {@code blockI_norm1}, {@code blockI_attn},
 * {@code blockI_ls1}, {@code blockI_add1}, {@code blockI_norm2}, {@code blockI_mlp}, {@code
 * blockI_ls2}, {@code blockI_add2} (I from 0, as the publishers count), {@code norm}, {@code pool}
 * (the features: [N, D], or [N, 2D] with {@link TokenPool.Mode#CLASS_AND_MEAN_PATCH}).
 *
 * <pre>{@code
 * ComputationGraph vit = new ComputationGraph(VisionTransformer.configuration(Spec.VIT_B16, 224, 42));
 * vit.init();
 * INDArray features = vit.output(images)[0];   // [N, 768]
 * }</pre>
 */
public final class VisionTransformer {

  /** The patch embedding (a convolution). */
  public static final String PATCH_EMBED = "patch_embed";

  /** Class token, register tokens and position embeddings. */
  public static final String TOKENS = "tokens";

  /** The final LayerNorm. */
  public static final String NORM = "norm";

  /** The features: the pooled tokens. */
  public static final String POOL = "pool";

  /**
   * The other features: the class token followed by the mean patch token, [N, 2D] (DINOv2's linear
   * evaluation), a cut point of every vision transformer.
   */
  public static final String POOL_CLS_MEAN = "pool_cls_mean";

  /** The block holding the patch embedding and the tokens. */
  public static final String STEM = "stem";

  /**
   * The shape of a vision transformer.
   *
   * @param patch P, the patch side in pixels
   * @param width D, the token width
   * @param depth number of blocks
   * @param heads attention heads per block
   * @param mlpHidden the MLP's hidden width
   * @param layerScale initial layer-scale factor, or 0 for no layer scale (ViT)
   * @param registers register tokens (DINOv2's {@code _reg} models), 0 for none
   * @param grid side of the grid of patches the position embeddings are stored for
   * @param interpolation how position embeddings follow another input size
   * @param epsilon the LayerNorms' epsilon
   * @param pool what the features are
   * @param dropPath stochastic depth of the last block (linearly from 0 at the first), training
   *     only
   */
  public record Spec(
      int patch,
      int width,
      int depth,
      int heads,
      int mlpHidden,
      double layerScale,
      int registers,
      int grid,
      PositionInterpolation interpolation,
      double epsilon,
      TokenPool.Mode pool,
      double dropPath) {

    /** torchvision's {@code vit_b_16} (and timm's {@code vit_base_patch16_224}): 224 px. */
    public static final Spec VIT_B16 =
        new Spec(
            16,
            768,
            12,
            12,
            3072,
            0,
            0,
            14,
            PositionInterpolation.TORCHVISION,
            1e-6,
            TokenPool.Mode.CLASS_TOKEN,
            0);

    /** DINOv2 ViT-S/14 ({@code dinov2_vits14}): position embeddings stored at 518 px. */
    public static final Spec DINOV2_S14 =
        new Spec(
            14,
            384,
            12,
            6,
            1536,
            1e-5,
            0,
            37,
            PositionInterpolation.DINOV2,
            1e-6,
            TokenPool.Mode.CLASS_TOKEN,
            0);

    /** DINOv2 ViT-B/14 ({@code dinov2_vitb14}). */
    public static final Spec DINOV2_B14 =
        new Spec(
            14,
            768,
            12,
            12,
            3072,
            1e-5,
            0,
            37,
            PositionInterpolation.DINOV2,
            1e-6,
            TokenPool.Mode.CLASS_TOKEN,
            0);

    public Spec {
      if (patch < 1 || width < 1 || depth < 1 || heads < 1 || mlpHidden < 1 || grid < 1) {
        throw new GraftException("a vision transformer needs positive sizes, got " + this);
      }
      if (width % heads != 0) {
        throw new GraftException(heads + " heads do not divide the width " + width);
      }
      if (registers < 0 || layerScale < 0 || !(dropPath >= 0 && dropPath < 1)) {
        throw new GraftException("bad vision transformer settings: " + this);
      }
    }

    /** This shape with {@code registers} register tokens. */
    public Spec withRegisters(int registers) {
      return new Spec(
          patch,
          width,
          depth,
          heads,
          mlpHidden,
          layerScale,
          registers,
          grid,
          interpolation,
          epsilon,
          pool,
          dropPath);
    }

    /** This shape with features {@code pool}. */
    public Spec withPool(TokenPool.Mode pool) {
      return new Spec(
          patch,
          width,
          depth,
          heads,
          mlpHidden,
          layerScale,
          registers,
          grid,
          interpolation,
          epsilon,
          pool,
          dropPath);
    }

    /** This shape with stochastic depth {@code dropPath} at the last block. */
    public Spec withDropPath(double dropPath) {
      return new Spec(
          patch,
          width,
          depth,
          heads,
          mlpHidden,
          layerScale,
          registers,
          grid,
          interpolation,
          epsilon,
          pool,
          dropPath);
    }

    /** The input side the position embeddings were trained at: grid × patch. */
    public int nativeSize() {
      return grid * patch;
    }
  }

  private VisionTransformer() {}

  /** The name of block {@code i}'s vertex {@code part} (norm1, attn, ls1, add1, ...). */
  public static String vertex(int block, String part) {
    return "block" + block + "_" + part;
  }

  /** Block names in order: {@code stem}, {@code block0} … */
  public static List<String> blockNames(Spec spec) {
    List<String> names = new ArrayList<>();
    names.add(STEM);
    for (int i = 0; i < spec.depth(); i++) {
      names.add("block" + i);
    }
    return List.copyOf(names);
  }

  /**
   * The last vertex of each of {@link #blockNames}: {@code tokens}, then each block's {@code add2};
   * the final norm and pool join the last block.
   */
  public static List<String> blockEnds(Spec spec) {
    List<String> ends = new ArrayList<>();
    ends.add(TOKENS);
    for (int i = 0; i < spec.depth(); i++) {
      ends.add(vertex(i, "add2"));
    }
    return List.copyOf(ends);
  }

  /**
   * The graph at {@code inputSize} px (square, RGB, NCHW), input {@code input}.
   *
   * @throws GraftException when the input is smaller than one patch
   */
  public static ComputationGraphConfiguration configuration(
      String input, Spec spec, int inputSize, long seed) {
    if (inputSize < spec.patch()) {
      throw new GraftException(
          "a vision transformer with "
              + spec.patch()
              + " px patches needs an input of at least one patch, got "
              + inputSize);
    }
    ComputationGraphConfiguration.GraphBuilder g =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .weightInit(WeightInit.XAVIER)
            .activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Truncate)
            .graphBuilder()
            .addInputs(input)
            .setInputTypes(InputType.convolutional(inputSize, inputSize, 3));
    add(g, input, spec);
    g.addLayer(
        POOL_CLS_MEAN, new TokenPool(TokenPool.Mode.CLASS_AND_MEAN_PATCH, spec.registers()), NORM);
    g.setOutputs(POOL, POOL_CLS_MEAN);
    return g.build();
  }

  /**
   * Adds the transformer's vertices to {@code g} on top of {@code input} (an RGB image, NCHW), up
   * to {@link #POOL} ({@link #configuration} adds {@link #POOL_CLS_MEAN} beside it).
   *
   * @return the name of the features vertex, {@link #POOL}
   */
  public static String add(ComputationGraphConfiguration.GraphBuilder g, String input, Spec spec) {
    g.addLayer(
        PATCH_EMBED,
        new ConvolutionLayer.Builder(spec.patch(), spec.patch())
            .stride(spec.patch(), spec.patch())
            .nOut(spec.width())
            .build(),
        input);
    g.addLayer(
        TOKENS,
        new TokenEmbedding(spec.width(), spec.grid(), spec.registers(), spec.interpolation()),
        PATCH_EMBED);
    String x = TOKENS;
    for (int i = 0; i < spec.depth(); i++) {
      double drop = spec.depth() > 1 ? spec.dropPath() * i / (spec.depth() - 1) : spec.dropPath();
      x = branch(g, spec, i, 1, x, new SelfAttention(spec.width(), spec.heads()), drop);
      x = branch(g, spec, i, 2, x, new TransformerMlp(spec.width(), spec.mlpHidden()), drop);
    }
    g.addLayer(NORM, new TokenLayerNorm(spec.width(), spec.epsilon()), x);
    g.addLayer(POOL, new TokenPool(spec.pool(), spec.registers()), NORM);
    return POOL;
  }

  /** {@code x + ls(f(norm(x)))}: the attention (k = 1) or MLP (k = 2) half of block i. */
  private static String branch(
      ComputationGraphConfiguration.GraphBuilder g,
      Spec spec,
      int i,
      int k,
      String x,
      org.deeplearning4j.nn.conf.layers.Layer f,
      double drop) {
    String norm = vertex(i, "norm" + k);
    String fn = vertex(i, k == 1 ? "attn" : "mlp");
    g.addLayer(norm, new TokenLayerNorm(spec.width(), spec.epsilon()), x);
    g.addLayer(fn, f, norm);
    String out = fn;
    if (spec.layerScale() > 0) {
      out = vertex(i, "ls" + k);
      g.addLayer(out, new TokenLayerScale(spec.width(), spec.layerScale()), fn);
    }
    String add = vertex(i, "add" + k);
    g.addVertex(add, new ResidualVertex(drop), x, out);
    return add;
  }
}
