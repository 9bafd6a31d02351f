package dev.graft.nn;

import java.util.List;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * Configuration shared by Graft's layers whose parameters are one vector per channel ({@link
 * ChannelLayerNorm}, {@link LayerScale}): the output has the input's type, {@code nIn = nOut} is
 * the channel count, taken from the input type ({@code [N, C, H, W]} NCHW or {@code [N, C]}), and
 * each parameter is {@code [1, C]}, named by {@link #paramKeys()} and initialised to {@link
 * #initialValue}. The parameters count as biases for regularisation (no weight decay on norms and
 * scales unless a bias regularisation is set).
 */
public abstract class ChannelParamLayer extends FeedForwardLayer {
  private static final long serialVersionUID = 1L;

  /** For Jackson. */
  protected ChannelParamLayer() {}

  /** From a builder. */
  protected ChannelParamLayer(Builder<?> b) {
    super(b);
  }

  /** The parameter names, in the order they lie in the parameter vector. */
  public abstract List<String> paramKeys();

  /** The initial value of every element of parameter {@code key}. */
  public abstract double initialValue(String key);

  @Override
  public InputType getOutputType(int layerIndex, InputType inputType) {
    if (inputType == null) {
      throw new IllegalStateException("no input type for layer '" + getLayerName() + "'");
    }
    return inputType;
  }

  @Override
  public void setNIn(InputType inputType, boolean override) {
    long c;
    if (inputType instanceof InputType.InputTypeConvolutional conv) {
      c = conv.getChannels();
    } else if (inputType instanceof InputType.InputTypeFeedForward ff) {
      c = ff.getSize();
    } else {
      throw new IllegalStateException(
          getClass().getSimpleName()
              + " '"
              + getLayerName()
              + "' reads [N, C, H, W] or [N, C], got "
              + inputType);
    }
    if (nIn <= 0 || override) {
      nIn = c;
      nOut = c;
    }
  }

  @Override
  public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
    return null;
  }

  @Override
  public ParamInitializer initializer() {
    return ChannelParamInitializer.INSTANCE;
  }

  @Override
  public List<Regularization> getRegularizationByParam(String paramName) {
    return regularizationBias == null ? List.of() : regularizationBias;
  }

  @Override
  public boolean isPretrainParam(String paramName) {
    return false;
  }

  @Override
  public LayerMemoryReport getMemoryReport(InputType inputType) {
    long params = initializer().numParams(this);
    return new LayerMemoryReport.Builder(layerName, getClass(), inputType, inputType)
        .standardMemory(params, getIUpdater() == null ? 0 : getIUpdater().stateSize(params))
        .workingMemory(0, 0, 0, 0)
        .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
        .build();
  }
}
