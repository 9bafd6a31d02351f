package dev.graft.model;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of Graft on the classpath, as Maven built it (recorded in every model file). */
public final class GraftVersion {
  private static final Properties BUILD = read();
  private static final String VERSION = value("version", "unknown");

  private GraftVersion() {}

  /** The version string, for example {@code 0.1.0-SNAPSHOT}; {@code "unknown"} if not packaged. */
  public static String current() {
    return VERSION;
  }

  /**
   * Where the documentation is published (from the pom's {@code url}), for messages that point
   * users at it.
   *
   * @return the URL of the docs folder, or {@code "the docs folder of Graft's sources"} if not
   *     packaged
   */
  public static String docsUrl() {
    return value("docs", "the docs folder of Graft's sources");
  }

  private static String value(String key, String fallback) {
    String v = BUILD.getProperty(key, fallback);
    return v.contains("${") ? fallback : v;
  }

  private static Properties read() {
    Properties p = new Properties();
    try (InputStream in =
        GraftVersion.class.getResourceAsStream("/dev/graft/graft-version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // not packaged: the fallbacks apply
    }
    return p;
  }
}
