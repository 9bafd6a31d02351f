package dev.graft.io;

import dev.graft.error.GraftException;

/**
 * The caps {@link SafeZip}, {@link NetworkZip} and the {@code .graft} reader apply to untrusted
 * files. The coefficients of a network are not capped here: their size is derived from what the
 * configuration says the parameters need (at most {@link #maxParameters()}, and no more than the
 * off-heap memory JavaCPP may still allocate).
 *
 * <p>Defaults (each can be raised with a system property of the same name under {@code
 * graft.limits.}, e.g. {@code -Dgraft.limits.maxParameters=4000000000}):
 *
 * <ul>
 *   <li>{@code maxEntries} 16 entries per zip;
 *   <li>{@code maxConfigBytes} 32 MiB for a {@code configuration.json} (InceptionV3's is about 1
 *       MB), and JSON nesting at most {@code maxJsonDepth} 256 levels;
 *   <li>{@code maxParameters} 2,000,000,000 parameters (VGG16 has 138 M);
 *   <li>{@code maxInfoBytes} 16 MiB for {@code graft.json}, {@code labels.txt} and {@code
 *       history.csv} each;
 *   <li>{@code maxLabels} 100,000 labels.
 * </ul>
 *
 * @param maxEntries entries a zip may hold
 * @param maxConfigBytes bytes of a network's {@code configuration.json}
 * @param maxJsonDepth nesting depth of any JSON Graft reads from a file
 * @param maxParameters parameters a network configuration may declare
 * @param maxInfoBytes bytes of each small text entry of a {@code .graft} file
 * @param maxLabels labels a model may have
 */
public record Limits(
    int maxEntries,
    long maxConfigBytes,
    int maxJsonDepth,
    long maxParameters,
    long maxInfoBytes,
    int maxLabels) {

  /** Validates that every cap is positive. */
  public Limits {
    if (maxEntries < 1
        || maxConfigBytes < 1
        || maxJsonDepth < 1
        || maxParameters < 1
        || maxInfoBytes < 1
        || maxLabels < 1) {
      throw new GraftException(
          "every limit must be positive, got maxEntries="
              + maxEntries
              + ", maxConfigBytes="
              + maxConfigBytes
              + ", maxJsonDepth="
              + maxJsonDepth
              + ", maxParameters="
              + maxParameters
              + ", maxInfoBytes="
              + maxInfoBytes
              + ", maxLabels="
              + maxLabels);
    }
  }

  /** The defaults above, each overridable by its {@code graft.limits.*} system property. */
  public static Limits defaults() {
    return new Limits(
        (int) prop("maxEntries", 16),
        prop("maxConfigBytes", 32L << 20),
        (int) prop("maxJsonDepth", 256),
        prop("maxParameters", 2_000_000_000L),
        prop("maxInfoBytes", 16L << 20),
        (int) prop("maxLabels", 100_000));
  }

  /**
   * The system property {@code graft.limits.NAME} as a number, or {@code def} when unset: the one
   * way every cap on untrusted input is moved.
   *
   * @throws GraftException if the property is set but not a number
   */
  public static long property(String name, long def) {
    return prop(name, def);
  }

  private static long prop(String name, long def) {
    String v = System.getProperty("graft.limits." + name);
    if (v == null || v.isBlank()) {
      return def;
    }
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new GraftException(
          "system property graft.limits." + name + " must be a number, got '" + v + "'", e);
    }
  }
}
