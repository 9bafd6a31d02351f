package org.nd4j.nativeblas;

import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compatibility shim, shipped by Graft: DL4J 1.0.0-M2.1's {@code BaseMKLDNNHelper.mklDnnEnabled()}
 * looks up {@code org.nd4j.nativeblas.Nd4jCpu$Environment#isUseMKLDNN}, a class that moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment#isUseONEDNN} in that release,
 * so the oneDNN layer helpers (convolution, batch normalization, pooling, LRN) were never used.
 * This class answers under the old name by delegating (reflectively, so that a CUDA build without
 * the CPU bindings still loads) to the new one, and logs once, at INFO, why oneDNN is off when it
 * is. See {@code dev.graft.perf.NativeTuning}.
 *
 * <p>Limits: it is tied to ND4J/DL4J 1.0.0-M2.1 (a later release that fixes the lookup makes it
 * dead code; one that removes {@code isUseONEDNN} makes it answer false); and it puts a class in
 * ND4J's package {@code org.nd4j.nativeblas}, a split package that the module path refuses (Graft
 * runs on the class path only).
 */
public final class Nd4jCpu {
  private Nd4jCpu() {}

  /** The old-named environment; only what {@code BaseMKLDNNHelper} calls. */
  public static final class Environment {
    private static final Environment INSTANCE = new Environment();
    private static volatile Boolean enabled;

    private Environment() {}

    /**
     * The singleton, as in the old bindings.
     *
     * @return the shim environment
     */
    public static Environment getInstance() {
      return INSTANCE;
    }

    /**
     * Whether the loaded native build has oneDNN (its build info says {@code HAVE_ONEDNN}) and
     * allows it (the moved class's {@code isUseONEDNN}).
     *
     * @return true when the oneDNN helpers can run
     */
    public boolean isUseMKLDNN() {
      Boolean e = enabled;
      if (e == null) {
        e = query();
        enabled = e;
      }
      return e;
    }

    private static boolean query() {
      // Graft's own message, under Graft's logger: ND4J's loggers are at WARN by default.
      Logger log = LoggerFactory.getLogger("dev.graft.perf.NativeTuning");
      Class<?> c;
      try {
        c = Class.forName("org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment");
      } catch (ClassNotFoundException | LinkageError ex) {
        log.info(
            "oneDNN layer helpers off: ND4J's CPU backend is not on the class path ({})",
            ex.toString());
        return false;
      }
      try {
        Object env = c.getMethod("getInstance").invoke(null);
        Method m = c.getMethod("isUseONEDNN");
        if (!(boolean) m.invoke(env)) {
          log.info("oneDNN layer helpers off: ND4J's environment has oneDNN disabled");
          return false;
        }
        // isUseONEDNN is only a switch, true even in builds without oneDNN: ask the build itself.
        String build = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
        if (build == null || !build.contains("HAVE_ONEDNN")) {
          log.info(
              "oneDNN layer helpers off: the loaded ND4J native build has no oneDNN (only the"
                  + " -onednn builds have it; "
                  + dev.graft.perf.NativeTuning.SPEED_BUILD_DOCS
                  + ")");
          return false;
        }
        return true;
      } catch (ReflectiveOperationException | LinkageError | RuntimeException ex) {
        log.info(
            "oneDNN layer helpers off: this ND4J has no Nd4jCpu.Environment#isUseONEDNN (the shim"
                + " targets ND4J 1.0.0-M2.1): {}",
            ex.toString());
        return false;
      }
    }
  }
}
