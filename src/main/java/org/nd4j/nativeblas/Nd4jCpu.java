package org.nd4j.nativeblas;

import java.lang.reflect.Method;

/**
 * Compatibility shim, shipped by Graft: DL4J 1.0.0-M2.1's {@code BaseMKLDNNHelper.mklDnnEnabled()}
 * looks up {@code org.nd4j.nativeblas.Nd4jCpu$Environment#isUseMKLDNN}, a class that moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment#isUseONEDNN} in that release,
 * so the oneDNN layer helpers (convolution, batch normalization, pooling, LRN) were never used.
 * This class answers under the old name by delegating (reflectively, so that a CUDA build without
 * the CPU bindings still loads) to the new one. See {@code dev.graft.perf.NativeTuning}.
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
     * Whether the native build uses oneDNN (and allows it), as reported by the moved class.
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
      try {
        Class<?> c = Class.forName("org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment");
        Object env = c.getMethod("getInstance").invoke(null);
        Method m = c.getMethod("isUseONEDNN");
        return (boolean) m.invoke(env);
      } catch (ReflectiveOperationException | LinkageError | RuntimeException ex) {
        return false;
      }
    }
  }
}
