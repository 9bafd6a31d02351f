package dev.graft.model;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of Graft on the classpath, as Maven built it (recorded in every model file). */
public final class GraftVersion {
  private static final String VERSION = read();

  private GraftVersion() {}

  /** The version string, for example {@code 0.1.0-SNAPSHOT}; {@code "unknown"} if not packaged. */
  public static String current() {
    return VERSION;
  }

  private static String read() {
    try (InputStream in = GraftVersion.class.getResourceAsStream("/dev/graft/graft-version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      return "unknown";
    }
  }
}
