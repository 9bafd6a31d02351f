package dev.graft.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Parameters of a {@link ChannelParamLayer}: one {@code [1, C]} vector per key, in key order, each
 * filled with the layer's initial value.
 */
final class ChannelParamInitializer implements ParamInitializer {
  static final ChannelParamInitializer INSTANCE = new ChannelParamInitializer();

  private ChannelParamInitializer() {}

  private static ChannelParamLayer conf(Layer l) {
    return (ChannelParamLayer) l;
  }

  @Override
  public long numParams(NeuralNetConfiguration conf) {
    return numParams(conf.getLayer());
  }

  @Override
  public long numParams(Layer layer) {
    ChannelParamLayer c = conf(layer);
    return c.getNIn() * c.paramKeys().size();
  }

  @Override
  public List<String> paramKeys(Layer layer) {
    return conf(layer).paramKeys();
  }

  @Override
  public List<String> weightKeys(Layer layer) {
    return List.of();
  }

  @Override
  public List<String> biasKeys(Layer layer) {
    return conf(layer).paramKeys();
  }

  @Override
  public boolean isWeightParam(Layer layer, String key) {
    return false;
  }

  @Override
  public boolean isBiasParam(Layer layer, String key) {
    return conf(layer).paramKeys().contains(key);
  }

  @Override
  public Map<String, INDArray> init(
      NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
    ChannelParamLayer c = conf(conf.getLayer());
    Map<String, INDArray> views = split(c, paramsView);
    if (initializeParams) {
      views.forEach((k, v) -> v.assign(c.initialValue(k)));
    }
    views.keySet().forEach(conf::addVariable);
    return views;
  }

  @Override
  public Map<String, INDArray> getGradientsFromFlattened(
      NeuralNetConfiguration conf, INDArray gradientView) {
    return split(conf(conf.getLayer()), gradientView);
  }

  private static Map<String, INDArray> split(ChannelParamLayer c, INDArray flat) {
    long n = c.getNIn();
    INDArray v = flat.reshape(flat.length());
    Map<String, INDArray> out = Collections.synchronizedMap(new LinkedHashMap<>());
    int i = 0;
    for (String k : c.paramKeys()) {
      out.put(k, v.get(NDArrayIndex.interval(i * n, (i + 1) * n)).reshape(1, n));
      i++;
    }
    return out;
  }
}
