package dev.graft.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses ND4J's native CPU build for the processor, before ND4J loads, and revives DL4J's oneDNN
 * layer helpers.
 *
 * <p><b>Why this must happen first.</b> JavaCPP loads the first native build it finds among the
 * extensions ND4J's preset lists ({@code -avx512}, {@code -onednn-avx512}, ...) unless {@value
 * #PLATFORM_EXTENSION} is set; set to an empty value, the generic build loads. An AVX-512 build on
 * the class path of a CPU without AVX-512 would kill the JVM with SIGILL at the first ND4J call. So
 * {@link #apply()} always sets the property explicitly:
 *
 * <ul>
 *   <li>{@code -onednn}, ND4J's oneDNN build for any x86-64 CPU, when it is on the class path
 *       ({@code org.nd4j:nd4j-native:1.0.0-M2.1:linux-x86_64-onednn}, the speed build the CLI jar
 *       carries): oneDNN chooses AVX2 or AVX-512 kernels itself at run time;
 *   <li>otherwise, on a CPU that reports AVX-512 (the {@code flags} line of {@code /proc/cpuinfo},
 *       or {@value #CPU_FLAGS} when set), {@code -onednn-avx512} or {@code -avx512} when such a
 *       build is on the class path;
 *   <li>otherwise the generic build ({@code ""});
 *   <li>{@code -D}{@value #AUTO_NATIVES}{@code =false}: the generic build, whatever the CPU;
 *   <li>a value the user set is kept, except an AVX-512 build on a CPU known to lack AVX-512, which
 *       is replaced by the generic build with a warning.
 * </ul>
 *
 * <p><b>When it runs.</b> Every public entry point of Graft calls {@link #apply()} from a static
 * initializer ({@code Graft}, {@code Bases}, {@code TransferModel}, {@code Predictor}, {@code
 * FeatureCache}, the CLI), and {@link NativeSelectionHook}, registered as an ND4J backend provider,
 * calls it when ND4J starts looking for its backend, so the choice is made even when the
 * application touches ND4J before Graft. When the library is nevertheless already loaded (an
 * application that loaded ND4J's natives by another path), nothing can be changed any more and the
 * log says which build is really loaded. Only the CPU backend is tuned: with the CUDA backend on
 * the class path, ND4J's own choice stands.
 *
 * <p><b>oneDNN layer helpers.</b> DL4J 1.0.0-M2.1 disables its layer helpers by default ({@code
 * org.eclipse.deeplearning4j.helpers.disable=true}) and looks for oneDNN under a class name that no
 * longer exists; Graft ships a shim under the old name ({@code org.nd4j.nativeblas.Nd4jCpu}) and
 * {@link #withLayerHelpers} turns the helpers on only while building inference-only graphs ({@code
 * dev.graft.graph.InferenceGraphs}).
 *
 * <p><b>Start-up lines.</b> ND4J and DL4J log about 15 INFO lines when ND4J loads (backend, BLAS
 * vendor, thread counts, build information, workspace modes). {@link #apply()} sets them to WARN
 * for slf4j-simple ({@value #QUIET_PROPERTY_PREFIX}{@code org.nd4j} and {@code
 * org.deeplearning4j.nn.graph}), unless the user set either property, and logs one line of its own
 * naming the backend and the native build. With another slf4j binding (Logback, Log4j 2) that
 * binding's configuration decides; {@code -Dgraft.nd4j.quiet=false} leaves ND4J's lines alone.
 *
 * <p>Never prints; logs the build at INFO.
 */
public final class NativeTuning {
  private static final Logger log = LoggerFactory.getLogger(NativeTuning.class);

  /** JavaCPP's run-time property that picks the native build ("-avx512", "-onednn-avx512"). */
  public static final String PLATFORM_EXTENSION = "org.bytedeco.javacpp.platform.extension";

  /** DL4J's switch for its cuDNN/oneDNN layer helpers (true by default in 1.0.0-M2.1). */
  public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

  /** Set to "false" to load the generic native build even on an AVX-512 CPU. */
  public static final String AUTO_NATIVES = "graft.natives.auto";

  /**
   * Replaces the CPU flags read from {@code /proc/cpuinfo} (space-separated, as in its {@code
   * flags} line): for tests and diagnosis, e.g. {@code -Dgraft.cpu.flags="sse4_2 avx2"} makes Graft
   * behave as on a CPU without AVX-512.
   */
  public static final String CPU_FLAGS = "graft.cpu.flags";

  private static final String BINDINGS = "org/nd4j/linalg/cpu/nativecpu/bindings/";
  private static final String CPU_BACKEND = "org/nd4j/linalg/cpu/nativecpu/CpuBackend.class";
  private static final String JNI_LIBRARY = "jnind4jcpu";

  /** Flags that ND4J's AVX-512 builds are compiled for (the x86-64-v4 level). */
  private static final Set<String> AVX512_FLAGS =
      Set.of("avx512f", "avx512bw", "avx512vl", "avx512dq");

  /**
   * ND4J's oneDNN build compiled for any x86-64 CPU: libnd4j's own loops are generic, while oneDNN
   * generates its convolution kernels for the CPU it finds at run time (AVX2, AVX-512, ...). It
   * runs on every x86-64 CPU and, measured in docs/performance.md, is faster than the {@code
   * -onednn-avx512} build even on an AVX-512 CPU.
   */
  static final String PORTABLE_ONEDNN = "-onednn";

  private static Choice applied;

  /**
   * Where the docs say how to add the oneDNN build: the page and the section's title, as the log
   * lines that point there quote it (a test checks that the section exists).
   */
  public static final String SPEED_BUILD_DOCS =
      "docs/building.md, \"Adding the oneDNN build for speed\"";

  /** slf4j-simple's per-logger level property prefix. */
  static final String QUIET_PROPERTY_PREFIX = "org.slf4j.simpleLogger.log.";

  /** {@code false}: ND4J's and DL4J's start-up INFO lines are left at the binding's level. */
  public static final String QUIET_ND4J = "graft.nd4j.quiet";

  /** Whether the CPU supports the AVX-512 instructions ND4J's AVX-512 builds need. */
  public enum Avx512 {
    /** The CPU reports avx512f, avx512bw, avx512vl and avx512dq. */
    PRESENT,
    /** The CPU's flags are known and lack at least one of them. */
    ABSENT,
    /** The flags cannot be read (not Linux on x86-64): never chosen automatically. */
    UNKNOWN
  }

  /**
   * The native build in force after {@link #apply()}.
   *
   * @param build the build, as JavaCPP names its folder: platform plus extension, e.g. {@code
   *     linux-x86_64} (generic) or {@code linux-x86_64-onednn-avx512}
   * @param extension the JavaCPP platform extension ({@code ""} for the generic build)
   * @param avx512 what the CPU reports
   * @param reason why this build, in words
   * @param chosenByGraft false when ND4J's natives were loaded before Graft could choose (then
   *     {@code build} is what is really loaded), or when a non-CPU backend is in use
   */
  public record Choice(
      String build, String extension, Avx512 avx512, String reason, boolean chosenByGraft) {
    /** Whether the CPU reports AVX-512. */
    public boolean cpuHasAvx512() {
      return avx512 == Avx512.PRESENT;
    }
  }

  private NativeTuning() {}

  /**
   * Chooses the native build once per JVM; later calls return the first choice. Call it before
   * anything touches ND4J (Graft's entry points and its ND4J backend hook do).
   *
   * @return the build in force
   */
  public static synchronized Choice apply() {
    if (applied != null) {
      return applied;
    }
    quietNd4jStartup();
    String platform = Loader.getPlatform();
    Avx512 cpu = cpuAvx512();
    String user = System.getProperty(PLATFORM_EXTENSION);
    Optional<String> loaded = loadedLibrary();
    Choice c;
    if (loaded.isPresent()) {
      String build = buildOf(loaded.get());
      c =
          new Choice(
              build,
              extensionOf(build, platform),
              cpu,
              "ND4J's natives were loaded before Graft could choose (" + loaded.get() + ")",
              false);
      if (build.contains("avx512") && cpu == Avx512.ABSENT) {
        log.warn(
            "ND4J native build: {} is loaded, but this CPU reports no AVX-512; set -D{}= (empty) before"
                + " the first ND4J call",
            build,
            PLATFORM_EXTENSION);
      } else {
        log.info("ND4J native build: {} (CPU backend; {})", build, c.reason());
      }
    } else if (!onClasspath(CPU_BACKEND)) {
      c =
          new Choice(
              platform + (user == null ? "" : user),
              user == null ? "" : user,
              cpu,
              "not the CPU backend: the native build is left to ND4J",
              false);
      log.info(
          "ND4J backend: not the CPU one (nd4j-native is not on the class path); ND4J chooses its"
              + " native build");
    } else {
      c =
          decide(
              platform,
              cpu,
              user,
              autoEnabled(),
              ext ->
                  onClasspath(
                      BINDINGS + platform + ext + "/" + System.mapLibraryName(JNI_LIBRARY)));
      System.setProperty(PLATFORM_EXTENSION, c.extension());
      // JavaCPP reads system properties once, into properties it caches at its first use: an
      // earlier JavaCPP user (HDF5, OpenCV) would have cached them without the extension.
      Properties cached = Loader.loadProperties();
      cached.setProperty("platform.extension", c.extension());
      if (user != null && !user.equals(c.extension())) {
        log.warn("ND4J native build: {} ({})", c.build(), c.reason());
      } else {
        log.info("ND4J native build: {} (CPU backend; {})", c.build(), c.reason());
      }
    }
    applied = c;
    return c;
  }

  /**
   * Puts ND4J's and DL4J's start-up INFO chatter at WARN for slf4j-simple, unless the user chose a
   * level for it or set {@value #QUIET_ND4J} to false. Takes effect for loggers created afterwards,
   * which is why it runs before ND4J loads.
   */
  static void quietNd4jStartup() {
    if ("false".equalsIgnoreCase(System.getProperty(QUIET_ND4J))) {
      return;
    }
    for (String logger : new String[] {"org.nd4j", "org.deeplearning4j.nn.graph"}) {
      if (System.getProperty(QUIET_PROPERTY_PREFIX + logger) == null) {
        System.setProperty(QUIET_PROPERTY_PREFIX + logger, "warn");
      }
    }
  }

  /**
   * The choice, as a pure function of its inputs (tested directly).
   *
   * @param platform JavaCPP's platform, e.g. {@code linux-x86_64}
   * @param cpu what the CPU reports
   * @param user the value of {@value #PLATFORM_EXTENSION} the user set, or null
   * @param auto whether {@value #AUTO_NATIVES} allows an automatic AVX-512 choice
   * @param onClasspath whether the build with this extension is on the class path
   * @return the choice; its extension is what the property must be set to
   */
  static Choice decide(
      String platform, Avx512 cpu, String user, boolean auto, Predicate<String> onClasspath) {
    if (user != null) {
      if (user.contains("avx512") && cpu == Avx512.ABSENT) {
        Choice instead = decide(platform, cpu, null, auto, onClasspath);
        return new Choice(
            instead.build(),
            instead.extension(),
            cpu,
            "-D"
                + PLATFORM_EXTENSION
                + "="
                + user
                + " ignored: this CPU lacks AVX-512 and would crash in that build; "
                + instead.reason(),
            true);
      }
      return new Choice(
          platform + user, user, cpu, "-D" + PLATFORM_EXTENSION + " set by the user", true);
    }
    if (!auto) {
      return new Choice(platform, "", cpu, AUTO_NATIVES + "=false: generic build", true);
    }
    if (onClasspath.test(PORTABLE_ONEDNN)) {
      return new Choice(
          platform + PORTABLE_ONEDNN,
          PORTABLE_ONEDNN,
          cpu,
          "the "
              + platform
              + PORTABLE_ONEDNN
              + " build on the class path: oneDNN picks the CPU's best instructions at run time",
          true);
    }
    switch (cpu) {
      case ABSENT:
        return new Choice(platform, "", cpu, "generic build: CPU lacks AVX-512", true);
      case UNKNOWN:
        return new Choice(
            platform, "", cpu, "generic build: CPU flags unknown on " + platform, true);
      default:
        break;
    }
    for (String ext : new String[] {"-onednn-avx512", "-avx512"}) {
      if (onClasspath.test(ext)) {
        return new Choice(
            platform + ext,
            ext,
            cpu,
            "AVX-512 CPU and the " + platform + ext + " build on the class path",
            true);
      }
    }
    return new Choice(
        platform,
        "",
        cpu,
        "generic build: no oneDNN build on the class path (" + SPEED_BUILD_DOCS + ")",
        true);
  }

  /**
   * The native ND4J build loaded in this JVM, as JavaCPP names its folder (e.g. {@code
   * linux-x86_64-onednn-avx512}); empty while ND4J's CPU natives are not loaded.
   *
   * @return the loaded build, if any
   */
  public static Optional<String> loadedBuild() {
    return loadedLibrary().map(NativeTuning::buildOf);
  }

  /** The path of ND4J's loaded JNI library, if JavaCPP loaded it. */
  private static Optional<String> loadedLibrary() {
    String file = System.mapLibraryName(JNI_LIBRARY);
    return Loader.getLoadedLibraries().values().stream()
        .filter(
            p ->
                p != null
                    && Path.of(p).getFileName() != null
                    && Path.of(p).getFileName().toString().equals(file))
        .findFirst();
  }

  private static String buildOf(String libraryPath) {
    Path parent = Path.of(libraryPath).getParent();
    return parent == null ? "unknown" : parent.getFileName().toString();
  }

  private static String extensionOf(String build, String platform) {
    return build.startsWith(platform) ? build.substring(platform.length()) : "";
  }

  private static boolean autoEnabled() {
    return !"false".equalsIgnoreCase(System.getProperty(AUTO_NATIVES, "true").strip());
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

  private static boolean onClasspath(String resource) {
    ClassLoader cl = NativeTuning.class.getClassLoader();
    return cl != null && cl.getResource(resource) != null;
  }

  /**
   * What the CPU reports: {@value #CPU_FLAGS} when set, else {@code /proc/cpuinfo} on Linux x86-64.
   */
  static Avx512 cpuAvx512() {
    String override = System.getProperty(CPU_FLAGS);
    if (override != null) {
      return avx512(override);
    }
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
        || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
      return Avx512.UNKNOWN;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags")) {
          return avx512(line.substring(line.indexOf(':') + 1));
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read /proc/cpuinfo: {}", e.toString());
    }
    return Avx512.UNKNOWN;
  }

  /**
   * Reads a flags list ({@code "fpu vme ... avx512f ..."}).
   *
   * @param flags the CPU flags, separated by white space
   * @return PRESENT when every flag ND4J's AVX-512 builds need is listed, else ABSENT
   */
  static Avx512 avx512(String flags) {
    Set<String> have = Arrays.stream(flags.strip().split("\\s+")).collect(Collectors.toSet());
    return have.containsAll(AVX512_FLAGS) ? Avx512.PRESENT : Avx512.ABSENT;
  }
}
