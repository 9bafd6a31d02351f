package dev.graft.testing;

import dev.graft.base.vit.VisionTransformer;
import dev.graft.base.vit.VisionTransformer.Spec;
import dev.graft.nn.PositionInterpolation;
import dev.graft.nn.TokenPool;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Vision transformers small enough to train in a test (16 px, 4 px patches, width 16, 2 blocks of 2
 * heads, MLP 32, positions stored for 4 × 4 patches), in ViT's and DINOv2's forms.
 */
public final class TinyTransformers {
  private TinyTransformers() {}

  /** ViT's form: no layer scale or registers, torchvision's interpolation. */
  public static final Spec VIT =
      new Spec(
          4,
          16,
          2,
          2,
          32,
          0,
          0,
          4,
          PositionInterpolation.TORCHVISION,
          1e-6,
          TokenPool.Mode.CLASS_TOKEN,
          0);

  /** DINOv2's form: layer scale 0.1, one register token, stochastic depth 0.1 at the last block. */
  public static final Spec DINOV2 =
      new Spec(
          4,
          16,
          2,
          2,
          32,
          0.1,
          1,
          4,
          PositionInterpolation.DINOV2,
          1e-6,
          TokenPool.Mode.CLASS_TOKEN,
          0.1);

  /** The initialised graph of {@code spec} at 16 px (input {@code input_1}, seed 1). */
  public static ComputationGraph graph(Spec spec) {
    ComputationGraph g =
        new ComputationGraph(VisionTransformer.configuration("input_1", spec, 16, 1));
    g.init();
    return g;
  }
}
