package dev.graft.base.vit;

import dev.graft.base.torch.TensorConversion;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One of the queries, keys or values of a fused PyTorch projection ({@code qkv.weight} [3D, D] or
 * {@code in_proj_weight}, and their biases [3D]), in that order, as a Graft {@link
 * dev.graft.nn.SelfAttention} parameter: a weight [D, D] (transposed to DL4J's [in, out]) or a bias
 * [1, D].
 *
 * @param part 0 for the queries, 1 the keys, 2 the values
 */
record QkvSlice(int part) implements TensorConversion {

  @Override
  public boolean fits(long[] source, long[] target) {
    long d = target[target.length - 1];
    return isBias(target)
        ? Arrays.equals(TensorConversion.squeeze(source), new long[] {3 * d})
        : Arrays.equals(source, new long[] {3 * d, target[0]});
  }

  @Override
  public String expected(long[] target) {
    long d = target[target.length - 1];
    return isBias(target) ? "[" + 3 * d + "]" : "[" + 3 * d + ", " + target[0] + "]";
  }

  @Override
  public INDArray apply(INDArray source, long[] target) {
    long d = target[target.length - 1];
    if (isBias(target)) {
      return source
          .reshape(3 * d)
          .get(NDArrayIndex.interval(part * d, (part + 1) * d))
          .reshape(target);
    }
    return source
        .get(NDArrayIndex.interval(part * d, (part + 1) * d), NDArrayIndex.all())
        .transpose()
        .dup('c');
  }

  private static boolean isBias(long[] target) {
    return target.length == 2 && target[0] == 1;
  }
}
