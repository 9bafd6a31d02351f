package dev.graft.io;

import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.nd4j.shade.jackson.databind.JsonNode;

/**
 * The classes a DL4J network configuration may name. DL4J reads {@code configuration.json} with
 * Jackson type ids ({@code "@class"}, and {@code "type"} for distributions) and instantiates
 * whatever class they name, so every such name is checked here on a plain JSON tree before DL4J
 * parses the text. A name passes only if it is a plain binary class name, in one of DL4J's or
 * ND4J's configuration packages (layers, vertices, preprocessors, activations, losses, updaters,
 * schedules, regularization, constraints, dropout, weight noise, weight initialisation,
 * distributions) or a class of Graft's own code, and the class (loaded without running its static
 * initialiser) is a subtype of one of those configuration types. (DL4J's other type ids are names
 * from a fixed registry, which cannot name an arbitrary class.) Keras's {@code TFOpLayer}, which
 * runs a TensorFlow graph, is refused.
 */
public final class ClassAllowlist {
  private static final Pattern BINARY_NAME =
      Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)+");

  private static final List<String> PACKAGES =
      List.of(
          "org.deeplearning4j.nn.conf.",
          "org.deeplearning4j.nn.weights.",
          "org.deeplearning4j.nn.modelimport.keras.preprocessors.",
          "org.deeplearning4j.nn.modelimport.keras.layers.",
          "org.nd4j.linalg.activations.impl.",
          "org.nd4j.linalg.lossfunctions.impl.",
          "org.nd4j.linalg.learning.config.",
          "org.nd4j.linalg.learning.regularization.",
          "org.nd4j.linalg.schedule.",
          "dev.graft.");

  private static final List<String> REFUSED =
      List.of("org.deeplearning4j.nn.modelimport.keras.layers.TFOpLayer");

  /** The configuration types a named class must extend or implement. */
  private static final List<String> TYPES =
      List.of(
          "org.deeplearning4j.nn.conf.layers.Layer",
          "org.deeplearning4j.nn.conf.graph.GraphVertex",
          "org.deeplearning4j.nn.conf.InputPreProcessor",
          "org.deeplearning4j.nn.conf.inputs.InputType",
          "org.deeplearning4j.nn.api.layers.LayerConstraint",
          "org.deeplearning4j.nn.conf.dropout.IDropout",
          "org.deeplearning4j.nn.conf.weightnoise.IWeightNoise",
          "org.deeplearning4j.nn.conf.distribution.Distribution",
          "org.deeplearning4j.nn.conf.stepfunctions.StepFunction",
          "org.deeplearning4j.nn.conf.layers.variational.ReconstructionDistribution",
          "org.deeplearning4j.nn.weights.IWeightInit",
          "org.nd4j.linalg.activations.IActivation",
          "org.nd4j.linalg.lossfunctions.ILossFunction",
          "org.nd4j.linalg.learning.config.IUpdater",
          "org.nd4j.linalg.learning.regularization.Regularization",
          "org.nd4j.linalg.schedule.ISchedule");

  private static final CodeSource GRAFT_CODE =
      ClassAllowlist.class.getProtectionDomain().getCodeSource();

  private ClassAllowlist() {}

  /**
   * Checks every type id in a configuration tree.
   *
   * @throws RefusedFileException naming the file, the entry and the first class refused
   */
  public static void check(JsonNode root, Path file, String entry) {
    walk(root, file, entry);
  }

  private static void walk(JsonNode node, Path file, String entry) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        String key = f.getKey();
        JsonNode v = f.getValue();
        if (key.equals("@class")) {
          requireAllowed(v.isTextual() ? v.asText() : v.toString(), file, entry);
        } else if (key.equals("type") && v.isTextual() && v.asText().contains(".")) {
          requireAllowed(v.asText(), file, entry); // Distribution's type id
        }
        walk(v, file, entry);
      }
    } else if (node.isArray()) {
      for (JsonNode c : node) {
        walk(c, file, entry);
      }
    }
  }

  /** Whether {@code name} passes the allowlist (see the class comment). */
  public static boolean allowed(String name) {
    if (!BINARY_NAME.matcher(name).matches() || REFUSED.contains(name)) {
      return false;
    }
    if (PACKAGES.stream().noneMatch(name::startsWith)) {
      return false;
    }
    Class<?> c;
    try {
      c = Class.forName(name, false, ClassAllowlist.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
    if (name.startsWith("dev.graft.") && !sameCode(c)) {
      return false;
    }
    for (String t : TYPES) {
      Class<?> type;
      try {
        type = Class.forName(t, false, ClassAllowlist.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        continue;
      }
      if (type.isAssignableFrom(c)) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameCode(Class<?> c) {
    CodeSource cs = c.getProtectionDomain().getCodeSource();
    if (GRAFT_CODE == null || cs == null) {
      return GRAFT_CODE == cs;
    }
    return GRAFT_CODE.getLocation() != null && GRAFT_CODE.getLocation().equals(cs.getLocation());
  }

  private static void requireAllowed(String name, Path file, String entry) {
    if (!allowed(name)) {
      String shown = name.length() > 200 ? name.substring(0, 200) + "..." : name;
      throw new RefusedFileException(
          file,
          entry,
          "names class '"
              + shown
              + "', which is not a DL4J/ND4J/Graft network configuration class; refused before"
              + " DL4J parsed it");
    }
  }
}
