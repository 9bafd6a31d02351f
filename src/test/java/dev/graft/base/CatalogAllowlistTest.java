package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.io.ClassAllowlist;
import dev.graft.io.RefusedFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * Every catalog architecture's configuration passes the class allowlist of the safe reader, and the
 * same configuration with one class name swapped deep inside it (outside DL4J's configuration
 * packages, or inside them but not a configuration type, or Keras's graph-running {@code
 * TFOpLayer}) is refused, naming the class.
 */
class CatalogAllowlistTest {
  private static final List<String> HOSTILE =
      List.of(
          "java.lang.ProcessBuilder",
          "org.deeplearning4j.nn.conf.NeuralNetConfiguration",
          "org.deeplearning4j.nn.modelimport.keras.layers.TFOpLayer");

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void catalogConfigurationsAreAllowed(Architecture a) throws Exception {
    String json = a.configuration(a.defaultInputSize(), 1, true).toJson();
    var tree = new ObjectMapper().readTree(json);
    assertDoesNotThrow(
        () -> ClassAllowlist.check(tree, Path.of(a.id() + ".zip"), "configuration.json"));
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void aClassSmuggledIntoACatalogConfigurationIsRefused(Architecture a) throws Exception {
    String json = a.configuration(a.defaultInputSize(), 1, true).toJson();
    ObjectMapper mapper = new ObjectMapper();
    for (String hostile : HOSTILE) {
      JsonNode tree = mapper.readTree(json);
      List<ObjectNode> typed = new ArrayList<>();
      typedObjects(tree, typed);
      assertTrue(typed.size() > 1, a + " configuration names classes");
      typed.get(typed.size() - 1).put("@class", hostile); // the last one, deepest in the graph
      RefusedFileException e =
          assertThrows(
              RefusedFileException.class,
              () -> ClassAllowlist.check(tree, Path.of(a.id() + ".zip"), "configuration.json"),
              hostile);
      assertTrue(e.getMessage().contains("'" + hostile + "'"), e.getMessage());
      assertTrue(e.getMessage().contains(a.id() + ".zip"), e.getMessage());
    }
  }

  /** Every object in the tree with an {@code @class} type id, in document order. */
  private static void typedObjects(JsonNode node, List<ObjectNode> into) {
    if (node.isObject() && node.has("@class")) {
      into.add((ObjectNode) node);
    }
    node.forEach(child -> typedObjects(child, into));
  }
}
