package dev.graft.nn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * DL4J layers that behave as Keras's do, for the catalog graphs built after {@code
 * keras.applications} (InceptionV3, MobileNetV2, EfficientNetB0): one place for the graph's input,
 * Keras's batch normalisation and Keras's {@code correct_pad}.
 *
 * <pre>{@code
 * GraphBuilder g = KerasLayers.graph("input_1", 224, 42, WeightInit.XAVIER_UNIFORM);
 * g.addLayer("Conv1_pad", KerasLayers.correctPad(224, 3), "input_1");   // 0 before, 1 after
 * g.addLayer("bn_Conv1", KerasLayers.batchNorm(1e-3, 0.999).build(), "Conv1");
 * }</pre>
 */
public final class KerasLayers {
  private KerasLayers() {}

  /**
   * A float graph builder with one NCHW RGB input of {@code side} pixels, identity activations
   * unless a layer says otherwise, and the given initialisation.
   */
  public static GraphBuilder graph(String input, int side, long seed, WeightInit init) {
    return new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(DataType.FLOAT)
        .weightInit(init)
        .activation(Activation.IDENTITY)
        .graphBuilder()
        .addInputs(input)
        .setInputTypes(InputType.convolutional(side, side, 3, CNN2DFormat.NCHW));
  }

  /**
   * Keras's {@code BatchNormalization(epsilon, momentum)}: DL4J's {@code decay} is Keras's
   * momentum, and the variance is stored as such (not DL4J's default log10 of the standard
   * deviation) so that Keras's values pass through unchanged.
   */
  public static BatchNormalization.Builder batchNorm(double epsilon, double momentum) {
    return new BatchNormalization.Builder().eps(epsilon).decay(momentum).useLogStd(false);
  }

  /**
   * Keras's {@code imagenet_utils.correct_pad} before a {@code kernel}×{@code kernel} stride-2
   * 'valid' window over a square map of {@code side}: {@code kernel / 2} zeros after, and as many
   * before, less one for an even side.
   */
  public static ZeroPaddingLayer correctPad(int side, int kernel) {
    int adjust = 1 - side % 2;
    int half = kernel / 2;
    return new ZeroPaddingLayer.Builder(half - adjust, half, half - adjust, half).build();
  }

  /** The side after {@link #correctPad} and the stride-2 {@code kernel} window it pads for. */
  public static int sideAfterCorrectPad(int side, int kernel) {
    int half = kernel / 2;
    return (side + 2 * half - (1 - side % 2) - kernel) / 2 + 1;
  }
}
