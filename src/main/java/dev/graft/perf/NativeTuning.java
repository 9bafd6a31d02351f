package dev.graft.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One-time, library-side tuning of ND4J's native backend, called once at startup (by the base
 * loader and the CLI) before anything touches ND4J.
 *
 * <ul>
 *   <li><b>Native build.</b> When the CPU supports AVX-512 and an AVX-512 build of
 *       {@code nd4j-native} is on the class path ({@code linux-x86_64-onednn-avx512} preferred,
 *       then {@code linux-x86_64-avx512}), selects it through JavaCPP's
 *       {@code org.bytedeco.javacpp.platform.extension} property; otherwise the generic build
 *       stays. A value the user set (system property) always wins. Machines without AVX-512 never
 *       load an AVX-512 library.
 *   <li><b>oneDNN layer helpers.</b> DL4J 1.0.0-M2.1 disables its layer helpers by default
 *       ({@code org.eclipse.deeplearning4j.helpers.disable=true}) and looks for oneDNN under a
 *       class name that no longer exists; Graft ships a shim under the old name
 *       ({@code org.nd4j.nativeblas.Nd4jCpu}) and {@link #withLayerHelpers} turns the helpers on
 *       only while building inference-only graphs ({@code dev.graft.graph.InferenceGraphs}).
 * </ul>
 *
 * <p>Never prints; logs what it chose at INFO.
 */
public final class NativeTuning {
  private static final Logger log = LoggerFactory.getLogger(NativeTuning.class);

  /** JavaCPP's run-time property that picks the native build ("-avx512", "-onednn-avx512"). */
  public static final String PLATFORM_EXTENSION = "org.bytedeco.javacpp.platform.extension";
  /** DL4J's switch for its cuDNN/oneDNN layer helpers (true by default in 1.0.0-M2.1). */
  public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";
  /** Set to "false" to keep the generic native build even on an AVX-512 CPU. */
  public static final String AUTO_NATIVES = "graft.natives.auto";

  private static final String BINDINGS = "org/nd4j/linalg/cpu/nativecpu/bindings/";
  private static volatile Choice applied;

  /**
   * What {@link #apply()} chose.
   *
   * @param extension the JavaCPP platform extension in force ("" for the generic build)
   * @param cpuHasAvx512 whether the CPU reports avx512f
   * @param reason why this build
   */
  public record Choice(String extension, boolean cpuHasAvx512, String reason) {}

  private NativeTuning() {}

  /**
   * Chooses the native build; idempotent. Must run before the first use of ND4J to have an
   * effect on the build (later calls only report).
   *
   * @return the choice made
   */
  public static synchronized Choice apply() {
    if (applied != null) {
      return applied;
    }
    boolean avx512 = cpuHasAvx512();
    String user = System.getProperty(PLATFORM_EXTENSION);
    Choice c;
    if (user != null) {
      c = new Choice(user, avx512, "set by the user");
    } else if (!"true".equalsIgnoreCase(System.getProperty(AUTO_NATIVES, "true"))) {
      c = new Choice("", avx512, AUTO_NATIVES + "=false");
    } else if (!avx512) {
      c = new Choice("", false, "CPU lacks AVX-512");
    } else if (onClasspath("-onednn-avx512")) {
      c = new Choice("-onednn-avx512", true, "AVX-512 CPU, oneDNN AVX-512 build on the class path");
    } else if (onClasspath("-avx512")) {
      c = new Choice("-avx512", true, "AVX-512 CPU, AVX-512 build on the class path");
    } else {
      c = new Choice("", true, "no AVX-512 build on the class path");
    }
    if (user == null && !c.extension().isEmpty()) {
      System.setProperty(PLATFORM_EXTENSION, c.extension());
    }
    log.info("ND4J native build: linux-x86_64{} ({})", c.extension(), c.reason());
    applied = c;
    return c;
  }

  /**
   * Whether oneDNN is in the loaded native build and usable by DL4J's layer helpers (through the
   * shim).
   *
   * @return true when oneDNN-backed convolution/BatchNorm/pooling helpers can run
   */
  public static boolean oneDnnAvailable() {
    try {
      return org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled();
    } catch (LinkageError | RuntimeException e) {
      return false;
    }
  }

  /**
   * Runs {@code build} (creating layers) with DL4J's layer helpers enabled when oneDNN is
   * available, restoring the previous setting afterwards. Helpers are chosen when a layer is
   * created, so only layers created inside {@code build} are affected.
   *
   * @param build creates and initialises a network
   * @param <T> the network type
   * @return what {@code build} returned
   */
  public static <T> T withLayerHelpers(Supplier<T> build) {
    if (!oneDnnAvailable() || System.getProperty(HELPERS_DISABLE) != null) {
      return build.get(); // the user decided, or nothing to enable
    }
    synchronized (NativeTuning.class) {
      System.setProperty(HELPERS_DISABLE, "false");
      try {
        return build.get();
      } finally {
        System.clearProperty(HELPERS_DISABLE);
      }
    }
  }

  private static boolean onClasspath(String extension) {
    String os = "linux-x86_64";
    return NativeTuning.class.getClassLoader().getResource(BINDINGS + os + extension + "/libjnind4jcpu.so") != null;
  }

  static boolean cpuHasAvx512() {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
        || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
      return false;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags")) {
          return line.contains(" avx512f") && line.contains(" avx512bw") && line.contains(" avx512vl") && line.contains(" avx512dq");
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read /proc/cpuinfo: {}", e.toString());
    }
    return false;
  }
}
