package dev.graft.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which native build a fresh JVM really loads, asked of JavaCPP in a child process, on a CPU that
 * Graft is told (through {@link NativeTuning#CPU_FLAGS}) lacks AVX-512. The child's class path is
 * this test's, which holds the {@code linux-x86_64-onednn-avx512} build: the build JavaCPP would
 * load first, and the one that dies with SIGILL on such a CPU. These tests fail if the crash comes
 * back, even on a machine with AVX-512.
 */
class NativeSelectionTest {
  /** The flags of an AMD Zen 3 (AVX2, no AVX-512), the CPU the crash was seen on. */
  static final String ZEN3_FLAGS =
      "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36"
          + " clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good"
          + " nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2"
          + " x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a"
          + " misalignsse 3dnowprefetch osvw topoext invpcid_single ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1"
          + " avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves"
          + " clzero xsaveerptr rdpru wbnoinvd arat npt nrip_save umip pku ospke vaes vpclmulqdq rdpid fsrm";

  static final String AVX512_FLAGS =
      ZEN3_FLAGS + " avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl";

  private static final String GENERIC = "linux-x86_64";
  private static final String ONEDNN_AVX512 = "linux-x86_64-onednn-avx512";
  private static final String PORTABLE = "linux-x86_64-onednn";
  private static final Pattern GRAFT_LOG =
      Pattern.compile("dev\\.graft\\.perf\\.NativeTuning - ND4J native build: (\\S+)");

  @BeforeAll
  static void avx512BuildOnTheClassPath() {
    assumeTrue(
        org.bytedeco.javacpp.Loader.getPlatform().equals(GENERIC),
        "the AVX-512 builds are linux-x86_64 ones");
    // Without it these tests would prove nothing: JavaCPP would find only the generic build.
    assertNotNull(
        NativeSelectionTest.class
            .getClassLoader()
            .getResource(
                "org/nd4j/linalg/cpu/nativecpu/bindings/" + ONEDNN_AVX512 + "/libjnind4jcpu.so"),
        "the test class path must hold nd4j-native's " + ONEDNN_AVX512 + " build (pom.xml)");
  }

  @Test
  void applicationTouchesNd4jFirstOnACpuWithoutAvx512(@TempDir Path tmp) throws Exception {
    Child c =
        run(
            tmp,
            classPath(),
            List.of("-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS),
            "nd4j-first");
    assertEquals(PORTABLE, c.loaded(), c.toString());
    assertEquals(PORTABLE, c.graftSays(), c.toString());
    assertTrue(c.out.contains("ONEDNN=true"), c.toString());
  }

  @Test
  void withoutTheOneDnnBuildACpuWithoutAvx512GetsTheGenericBuild(@TempDir Path tmp)
      throws Exception {
    Child c =
        run(
            tmp,
            classPathWithout(PORTABLE + ".jar"),
            List.of("-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS),
            "nd4j-first");
    assertEquals(GENERIC, c.loaded(), c.toString());
    assertEquals(GENERIC, c.graftSays(), c.toString());
    assertTrue(c.err.contains("CPU lacks AVX-512"), c.toString());
    // the generic build has no oneDNN: the shim says so, and why
    assertTrue(c.out.contains("ONEDNN=false"), c.toString());
    assertTrue(
        c.err.contains("oneDNN layer helpers off: the loaded ND4J native build has no oneDNN"),
        c.toString());
  }

  @Test
  void graftFirstOnACpuWithoutAvx512(@TempDir Path tmp) throws Exception {
    Child c =
        run(
            tmp,
            classPath(),
            List.of("-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS),
            "graft-first");
    assertEquals(PORTABLE, c.loaded(), c.toString());
    assertEquals(PORTABLE, c.graftSays(), c.toString());
  }

  @Test
  void autoOffLoadsTheGenericBuildEvenOnAnAvx512Cpu(@TempDir Path tmp) throws Exception {
    Child c =
        run(
            tmp,
            classPath(),
            List.of(
                "-D" + NativeTuning.CPU_FLAGS + "=" + AVX512_FLAGS,
                "-D" + NativeTuning.AUTO_NATIVES + "=false"),
            "graft-first");
    assertEquals(GENERIC, c.loaded(), c.toString());
    assertEquals(GENERIC, c.graftSays(), c.toString());
  }

  @Test
  void anAvx512BuildTheUserAsksForIsRefusedOnACpuWithoutAvx512(@TempDir Path tmp) throws Exception {
    Child c =
        run(
            tmp,
            classPath(),
            List.of(
                "-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS,
                "-D" + NativeTuning.PLATFORM_EXTENSION + "=-onednn-avx512"),
            "nd4j-first");
    assertEquals(PORTABLE, c.loaded(), c.toString());
    assertEquals(PORTABLE, c.graftSays(), c.toString());
    assertTrue(
        c.err.contains("WARN dev.graft.perf.NativeTuning") && c.err.contains("ignored"),
        c.toString());
  }

  @Test
  void onThisCpuThePortableOneDnnBuildIsChosen(@TempDir Path tmp) throws Exception {
    Child c = run(tmp, classPath(), List.of(), "graft-first");
    assertEquals(PORTABLE, c.loaded(), c.toString());
    assertEquals(PORTABLE, c.graftSays(), c.toString());
    assertTrue(c.out.contains("ONEDNN=true"), c.toString());
  }

  /**
   * ND4J's natives loaded by a path that bypasses backend discovery: Graft can no longer choose,
   * and its log must name what is really loaded, not what it would have chosen. On a CPU without
   * AVX-512 the child runs without the AVX-512 build (it would crash).
   */
  @Test
  void whenNativesAreAlreadyLoadedTheLogSaysWhatIsReallyLoaded(@TempDir Path tmp) throws Exception {
    boolean avx512 = NativeTuning.cpuAvx512() == NativeTuning.Avx512.PRESENT;
    String cp = avx512 ? classPath() : classPathWithout("avx512");
    Child c =
        run(tmp, cp, List.of("-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS), "natives-first");
    assertEquals(avx512 ? ONEDNN_AVX512 : GENERIC, c.loaded(), c.toString());
    assertEquals(c.loaded(), c.graftSays(), c.toString());
    assertTrue(c.out.contains("chosenByGraft=false"), c.toString());
    if (avx512) {
      assertTrue(
          c.err.contains("WARN dev.graft.perf.NativeTuning"),
          "reported CPU lacks AVX-512: a warning\n" + c);
    }
  }

  /** Each public entry point chooses the build as its class initializes, before it touches ND4J. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "dev.graft.Graft",
        "dev.graft.base.Bases",
        "dev.graft.model.TransferModel",
        "dev.graft.model.Predictor",
        "dev.graft.features.FeatureCache"
      })
  void everyEntryPointSetsTheExtensionExplicitly(String entryPoint, @TempDir Path tmp)
      throws Exception {
    Child c =
        run(
            tmp,
            classPath(),
            List.of("-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS),
            "init",
            entryPoint);
    assertTrue(
        c.out.contains("PROPERTY=-onednn\n") || c.out.endsWith("PROPERTY=-onednn"), c.toString());
  }

  /** The CLI chooses in main, before any command runs (here one that never touches ND4J). */
  @Test
  void theCliSelectsTheBuildBeforeAnyCommand(@TempDir Path tmp) throws Exception {
    Child c =
        runMain(
            tmp,
            classPath(),
            List.of("-D" + NativeTuning.CPU_FLAGS + "=" + ZEN3_FLAGS),
            "dev.graft.cli.GraftCli",
            "--version");
    assertEquals(PORTABLE, c.graftSays(), c.toString());
  }

  private static String classPath() {
    return System.getProperty("java.class.path");
  }

  private static String classPathWithout(String marker) {
    return Arrays.stream(classPath().split(File.pathSeparator))
        .filter(e -> !Path.of(e).getFileName().toString().contains(marker))
        .collect(Collectors.joining(File.pathSeparator));
  }

  private static Child run(Path tmp, String classPath, List<String> props, String... args)
      throws IOException, InterruptedException {
    return runMain(tmp, classPath, props, NativeProbe.class.getName(), args);
  }

  private static Child runMain(
      Path tmp, String classPath, List<String> props, String main, String... args)
      throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                classPath,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info"));
    cmd.addAll(props);
    cmd.add(main);
    cmd.addAll(List.of(args));
    Path out = tmp.resolve("out.txt");
    Path err = tmp.resolve("err.txt");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    Child c =
        new Child(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8).strip(),
            Files.readString(err, StandardCharsets.UTF_8));
    assertEquals(0, c.exit, "child JVM failed (134 = SIGILL/abort)\n" + c);
    return c;
  }

  private record Child(int exit, String out, String err) {
    /** The folder (the build) of the ND4J JNI library JavaCPP really loaded. */
    String loaded() {
      List<String> libs =
          out.lines()
              .filter(l -> l.startsWith("LIBRARY=") && l.endsWith("/libjnind4jcpu.so"))
              .toList();
      assertEquals(1, libs.size(), "one ND4J JNI library loaded\n" + this);
      return Path.of(libs.get(0).substring("LIBRARY=".length()))
          .getParent()
          .getFileName()
          .toString();
    }

    /** The build Graft's log names; exactly one such line. */
    String graftSays() {
      Matcher m = GRAFT_LOG.matcher(err);
      assertTrue(m.find(), "Graft's log names the build\n" + this);
      String build = m.group(1);
      assertFalse(m.find(), "one line from Graft about the build\n" + this);
      return build;
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }
}
