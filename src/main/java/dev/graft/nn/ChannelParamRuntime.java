package dev.graft.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runtime side shared by {@link ChannelParamLayer}s: the layer type follows the input's rank, and a
 * {@code [1, C]} parameter is shaped to broadcast over {@code [N, C, H, W]} or {@code [N, C]}.
 *
 * @param <T> the configuration
 */
public abstract class ChannelParamRuntime<T extends ChannelParamLayer> extends BaseLayer<T> {

  /** The layer of {@code conf}, computing in {@code dataType}. */
  protected ChannelParamRuntime(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  public Type type() {
    return input != null && input.rank() == 4 ? Type.CONVOLUTIONAL : Type.FEED_FORWARD;
  }

  /** Parameter {@code key}, {@code [1, C, 1, 1]} or {@code [1, C]} to broadcast over {@code x}. */
  protected INDArray perChannel(String key, INDArray x) {
    INDArray v = getParam(key);
    return x.rank() == 4 ? v.reshape(1, v.length(), 1, 1) : v.reshape(1, v.length());
  }

  /** The axes a parameter's gradient sums over: all but the channels. */
  protected static int[] nonChannelAxes(INDArray x) {
    return x.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
  }

  @Override
  public boolean isPretrainLayer() {
    return false;
  }

  @Override
  public boolean hasBias() {
    return false;
  }
}
