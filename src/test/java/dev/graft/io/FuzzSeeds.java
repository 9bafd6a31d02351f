package dev.graft.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the seed corpus of a Jazzer {@code @FuzzTest} from files the tests craft: into the inputs
 * directory Jazzer replays in every test run ({@code
 * <test-classes>/<package>/<Class>Inputs/<method>}) and into the corpus it grows while fuzzing
 * ({@code .cifuzz-corpus/<class>/<method>}). Call it from the fuzz test's {@code @BeforeAll}, which
 * runs before Jazzer looks for seeds.
 */
public final class FuzzSeeds {
  private FuzzSeeds() {}

  /** Writes {@code seeds} (name to bytes) for {@code test}'s fuzz method {@code method}. */
  public static void write(Class<?> test, String method, Map<String, byte[]> seeds) {
    try {
      Path classes = Path.of(test.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path inputs =
          classes
              .resolve(test.getPackageName().replace('.', '/'))
              .resolve(test.getSimpleName() + "Inputs")
              .resolve(method);
      Path corpus = Path.of(".cifuzz-corpus", test.getName(), method);
      for (Path dir : new Path[] {inputs, corpus}) {
        Files.createDirectories(dir);
        for (Map.Entry<String, byte[]> e : seeds.entrySet()) {
          Files.write(dir.resolve("seed-" + e.getKey()), e.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The bytes of {@code file}, unchecked. */
  public static byte[] bytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
