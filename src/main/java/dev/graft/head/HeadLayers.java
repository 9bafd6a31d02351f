package dev.graft.head;

import dev.graft.error.GraftException;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * The DL4J layers a {@link Head} becomes on top of a base's cut: {@code head_pool} (global average
 * pooling, for a pooling head on a feature map), {@code head_dense_1}, {@code head_dense_2}, ...
 * and the softmax {@code head_output}. Model files name these layers, so the names are fixed.
 */
public final class HeadLayers {
  /** The softmax output layer. */
  public static final String OUTPUT = "head_output";

  /** The global average pooling of a pooling head on a feature map. */
  public static final String POOL = "head_pool";

  /** Hidden layer {@code i} (from 1) is {@code DENSE_PREFIX + i}. */
  public static final String DENSE_PREFIX = "head_dense_";

  private HeadLayers() {}

  /**
   * Adds {@code head}'s layers on top of {@code cut}.
   *
   * @param gb the graph being built; it already holds {@code cut}
   * @param cut the vertex the head reads
   * @param cutShape its activation shape for one image: {@code [1, C, h, w]} or {@code [1, F]}
   * @param head the head
   * @param numClasses the softmax width
   * @param classWeights per-class loss weights, or null
   * @return the head's layer names in order, {@link #OUTPUT} last
   * @throws GraftException when the cut's output is neither a map nor a vector
   */
  public static List<String> add(
      ComputationGraphConfiguration.GraphBuilder gb,
      String cut,
      long[] cutShape,
      Head head,
      int numClasses,
      double[] classWeights) {
    List<String> names = new ArrayList<>();
    String prev = cut;
    long width;
    InputPreProcessor pre = null;
    if (cutShape.length == 4) {
      if (head.reduction() == Head.Reduction.AVERAGE_POOLING) {
        gb.addLayer(POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        names.add(POOL);
        prev = POOL;
        width = cutShape[1];
      } else {
        width = cutShape[1] * cutShape[2] * cutShape[3];
        pre = new CnnToFeedForwardPreProcessor(cutShape[2], cutShape[3], cutShape[1]);
      }
    } else if (cutShape.length == 2) {
      width = cutShape[1];
    } else {
      throw new GraftException(
          "cut layer '"
              + cut
              + "' outputs rank "
              + cutShape.length
              + " activations "
              + java.util.Arrays.toString(cutShape)
              + "; expected [N,C,h,w] or [N,F]");
    }
    double dropout = head.inputDropout();
    int i = 0;
    for (Head.Dense d : head.hidden()) {
      i++;
      String name = DENSE_PREFIX + i;
      DenseLayer.Builder b =
          new DenseLayer.Builder()
              .nIn(width)
              .nOut(d.units())
              .activation(d.activation())
              .weightInit(d.activation() == Activation.RELU ? WeightInit.RELU : WeightInit.XAVIER);
      if (dropout > 0) {
        b.dropOut(new Dropout(1 - dropout));
      }
      gb.addLayer(name, b.build(), pre, prev);
      pre = null;
      names.add(name);
      prev = name;
      width = d.units();
      dropout = d.dropout();
    }
    LossMCXENT loss =
        classWeights == null
            ? new LossMCXENT()
            : new LossMCXENT(
                Nd4j.create(classWeights).castTo(DataType.FLOAT).reshape(1, numClasses));
    OutputLayer.Builder ob =
        new OutputLayer.Builder(loss)
            .nIn(width)
            .nOut(numClasses)
            .activation(Activation.SOFTMAX)
            .weightInit(WeightInit.XAVIER);
    if (dropout > 0) {
      ob.dropOut(new Dropout(1 - dropout));
    }
    gb.addLayer(OUTPUT, ob.build(), pre, prev);
    names.add(OUTPUT);
    return names;
  }
}
