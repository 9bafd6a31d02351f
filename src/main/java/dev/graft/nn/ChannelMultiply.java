package dev.graft.nn;

import dev.graft.perf.ChannelsLastPasses;
import dev.graft.perf.FloatChunks;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The running form of {@link ChannelMultiplyVertex}: forward {@code x * s} broadcast over height
 * and width; backward {@code dx = eps * s} and {@code ds = sum over h, w of eps * x}.
 */
final class ChannelMultiply extends ParameterFreeVertex {

  /** The channel axis of the activations: 1 (NCHW) or 3 (NHWC). */
  private final int channelAxis;

  ChannelMultiply(
      ComputationGraph graph, String name, int index, CNN2DFormat format, DataType dataType) {
    super(graph, name, index, dataType);
    this.channelAxis = format == CNN2DFormat.NHWC ? 3 : 1;
  }

  /** The spatial axes of the activations. */
  private int[] spatialAxes() {
    return channelAxis == 1 ? new int[] {2, 3} : new int[] {1, 2};
  }

  /** The factors as [N, C], whatever their rank. */
  private INDArray factors() {
    INDArray s = inputs[1];
    INDArray x = inputs[0];
    if (x.rank() != 4) {
      throw new IllegalStateException(
          "ChannelMultiplyVertex '"
              + vertexName
              + "' needs [N, C, H, W] activations, got "
              + java.util.Arrays.toString(x.shape()));
    }
    if (s.length() != x.size(0) * x.size(channelAxis)) {
      throw new IllegalStateException(
          "ChannelMultiplyVertex '"
              + vertexName
              + "': factors "
              + java.util.Arrays.toString(s.shape())
              + " do not match activations "
              + java.util.Arrays.toString(x.shape()));
    }
    return s.rank() == 2 ? s : s.reshape(s.ordering(), x.size(0), x.size(channelAxis));
  }

  @Override
  public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoForward()) {
      throw new IllegalStateException("ChannelMultiplyVertex '" + vertexName + "': inputs not set");
    }
    INDArray x = inputs[0];
    INDArray s = factors().castTo(x.dataType());
    INDArray out =
        workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
    if (onePass(x, s)) {
      scale(x, s, out);
    } else {
      Nd4j.getExecutioner().exec(new BroadcastMulOp(x, s, out, 0, channelAxis));
    }
    return out;
  }

  @Override
  public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoBackward()) {
      throw new IllegalStateException("ChannelMultiplyVertex '" + vertexName + "': errors not set");
    }
    INDArray x = inputs[0];
    INDArray s = factors();
    INDArray dx =
        workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, x.dataType(), x.shape(), 'c');
    INDArray ds =
        workspaceMgr.createUninitialized(
            ArrayType.ACTIVATION_GRAD, inputs[1].dataType(), inputs[1].shape(), 'c');
    if (onePass(x, s) && FloatChunks.dense(epsilon) && FloatChunks.dense(ds)) {
      scale(epsilon, s, dx);
      if (channelAxis == 1) {
        FloatChunks.rowDots(epsilon, x, ds, x.size(2) * x.size(3));
      } else {
        ChannelsLastPasses.columnDots(epsilon, x, ds, x.size(1) * x.size(2), (int) x.size(3));
      }
      return new Pair<>(null, new INDArray[] {dx, ds});
    }
    Nd4j.getExecutioner()
        .exec(new BroadcastMulOp(epsilon, s.castTo(x.dataType()), dx, 0, channelAxis));
    INDArray ds2 = epsilon.mul(x).sum(spatialAxes()); // [N, C]
    ds.assign(ds2.reshape('c', inputs[1].shape()));
    return new Pair<>(null, new INDArray[] {dx, ds});
  }

  /**
   * Whether the products run as one Java pass ({@link FloatChunks}, {@link ChannelsLastPasses}):
   * dense FP32 activations, where in NCHW each (sample, channel) row of H·W elements shares one
   * factor and in NHWC each sample's rows of C channels share one row of factors. DL4J's broadcast
   * loops over those rows; on 7×7 maps the pass is several times faster.
   */
  private static boolean onePass(INDArray x, INDArray s) {
    return FloatChunks.dense(x) && FloatChunks.dense(s);
  }

  /** {@code out = x · s}, each (sample, channel) of {@code x} times its factor. */
  private void scale(INDArray x, INDArray s, INDArray out) {
    if (channelAxis == 3) {
      ChannelsLastPasses.scaleColumns(x, s, out, x.size(1) * x.size(2), (int) x.size(3));
      return;
    }
    float[] factors = FloatChunks.values(s);
    float[] zeros = new float[factors.length];
    FloatChunks.channelAffine(x, out, factors.length, x.size(2) * x.size(3), zeros, factors, zeros);
  }

  @Override
  public String toString() {
    return "ChannelMultiplyVertex(name=\"" + vertexName + "\")";
  }
}
