package dev.graft.base.keras;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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

  /** Names Keras gives unnamed layers: class name, then {@code _N} from the second one on. */
  private static final Pattern AUTO_NAME =
      Pattern.compile(
          "(conv2d|batch_normalization|dense|convolution2d|batchnormalization)(?:_(\\d+))?");

  private KerasNames() {}

  /**
   * File names of auto-named layers (value {@code ""}: no graph layer) ({@code conv2d_N}, …) mapped
   * onto the graph's when the file counts them from elsewhere: tf.keras 2 starts at {@code conv2d}
   * (no suffix) where Keras 2.0 started at {@code conv2d_1}; a model built after others in the same
   * session starts higher; Keras 1 said {@code convolution2d_N} and {@code batchnormalization_N}.
   * Mapped only when, per kind, every graph number is a file number shifted by one constant (the
   * file may go on past a graph cut short); shapes are checked later.
   */
  static Map<String, String> renumbered(
      Collection<String> fileNames, Collection<String> graphNames) {
    Map<String, TreeMap<Integer, String>> file = byKind(fileNames);
    Map<String, TreeMap<Integer, String>> graph = byKind(graphNames);
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, TreeMap<Integer, String>> e : file.entrySet()) {
      TreeMap<Integer, String> f = e.getValue();
      TreeMap<Integer, String> g = graph.get(e.getKey());
      if (g == null) {
        continue;
      }
      // the graph may be cut short of the file's last layers, never the other way round
      int offset = g.firstKey() - f.firstKey();
      if (!g.keySet().stream().allMatch(i -> f.containsKey(i - offset))) {
        continue;
      }
      boolean identity =
          f.entrySet().stream()
              .allMatch(
                  en -> en.getValue().equals(g.getOrDefault(en.getKey() + offset, en.getValue())));
      if (identity) {
        continue;
      }
      // "" marks a file layer past the graph's end: it has no counterpart (a top to skip)
      f.forEach((i, name) -> out.put(name, g.getOrDefault(i + offset, "")));
    }
    return out;
  }

  private static Map<String, TreeMap<Integer, String>> byKind(Collection<String> names) {
    Map<String, TreeMap<Integer, String>> out = new HashMap<>();
    for (String n : names) {
      Matcher m = AUTO_NAME.matcher(n);
      if (!m.matches()) {
        continue;
      }
      String kind =
          switch (m.group(1)) {
            case "convolution2d" -> "conv2d";
            case "batchnormalization" -> "batch_normalization";
            default -> m.group(1);
          };
      int index = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
      out.computeIfAbsent(kind, k -> new TreeMap<>()).put(index, n);
    }
    return out;
  }

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
