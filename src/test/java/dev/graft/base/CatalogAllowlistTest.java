package dev.graft.base;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import dev.graft.io.ClassAllowlist;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** Every catalog architecture's configuration passes the class allowlist of the safe reader. */
class CatalogAllowlistTest {
  @ParameterizedTest
  @EnumSource(Architecture.class)
  void catalogConfigurationsAreAllowed(Architecture a) throws Exception {
    String json = a.configuration(a.defaultInputSize(), 1, true).toJson();
    var tree = new ObjectMapper().readTree(json);
    assertDoesNotThrow(
        () -> ClassAllowlist.check(tree, Path.of(a.id() + ".zip"), "configuration.json"));
  }
}
