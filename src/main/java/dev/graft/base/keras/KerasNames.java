package dev.graft.base.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a Keras layer name maps onto a Graft graph's layer names, and which batch normalisation
 * epsilon the Keras model used (weight files do not store it).
 *
 * <ul>
 *   <li>InceptionV3 and VGG16: Graft's graphs use Keras's names, nothing to map.
 *   <li>ResNet50 of keras-applications ≤ 1.0.8 ({@code conv1}, {@code bn_conv1}, {@code
 *       res2a_branch2a}, {@code bn2a_branch2a}, …, {@code fc1000}): Graft's graph keeps the zoo's
 *       names, which are Keras's except for the stem ({@code stem-cnn1}, {@code stem-batch1}).
 *   <li>ResNet50 of tf.keras / Keras 3 ({@code conv1_conv}, {@code conv1_bn}, {@code
 *       conv2_block1_1_conv}, …, {@code conv2_block1_0_conv} for the shortcut, {@code
 *       predictions}): mapped onto the names above; these layers used epsilon 1.001e-5.
 * </ul>
 */
final class KerasNames {

  /** Keras's BatchNormalization default. */
  static final double DEFAULT_EPSILON = 1e-3;

  /** The epsilon of tf.keras's ResNet family ({@code keras/applications/resnet.py}). */
  static final double RESNET_V1_TF_KERAS_EPSILON = 1.001e-5;

  private static final Pattern TF_KERAS_RESNET =
      Pattern.compile("conv(\\d)_block(\\d+)_(\\d)_(conv|bn)");

  /** Graft graph name → Keras name, for layers whose names differ (used when saving). */
  private static final Map<String, String> TO_KERAS =
      Map.of("stem-cnn1", "conv1", "stem-batch1", "bn_conv1");

  private KerasNames() {}

  /** Graph layer names a Keras layer may carry in a Graft graph, most specific first. */
  static List<String> graphCandidates(String kerasName) {
    List<String> out = new ArrayList<>();
    out.add(kerasName);
    switch (kerasName) {
      case "conv1" -> out.add("stem-cnn1");
      case "bn_conv1" -> out.add("stem-batch1");
      case "conv1_conv" -> out.addAll(List.of("conv1", "stem-cnn1"));
      case "conv1_bn" -> out.addAll(List.of("bn_conv1", "stem-batch1"));
      case "predictions" -> out.add("fc1000");
      default -> {
        Matcher m = TF_KERAS_RESNET.matcher(kerasName);
        if (m.matches()) {
          String unit = m.group(1) + (char) ('a' + Integer.parseInt(m.group(2)) - 1);
          int k = Integer.parseInt(m.group(3));
          String branch = k == 0 ? "1" : "2" + (char) ('a' + k - 1);
          out.add((m.group(4).equals("conv") ? "res" : "bn") + unit + "_branch" + branch);
        }
      }
    }
    return out;
  }

  /** The Keras name to write for a graph layer. */
  static String kerasName(String graphName) {
    return TO_KERAS.getOrDefault(graphName, graphName);
  }

  /** The epsilon the Keras model of this (Keras-named) batch normalisation layer used. */
  static double epsilon(String kerasName) {
    if (kerasName.equals("conv1_bn") || TF_KERAS_RESNET.matcher(kerasName).matches()) {
      return RESNET_V1_TF_KERAS_EPSILON;
    }
    return DEFAULT_EPSILON;
  }
}
