package dev.graft.perf;

import org.nd4j.common.io.Resource;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4jBackend;

/**
 * Not a backend: a hook that makes {@link NativeTuning#apply()} run when ND4J starts, even when the
 * application touches ND4J before any Graft class. ND4J's {@code Nd4jBackend.load()} instantiates
 * every backend provider listed under {@code META-INF/services} before it loads any native code;
 * this provider chooses the native build in its constructor. Its priority is the lowest, so ND4J
 * picks a real backend first and never asks this one (it answers "unavailable" if it is asked).
 *
 * <p>Public only because {@link java.util.ServiceLoader} requires it; not part of Graft's API.
 */
public final class NativeSelectionHook extends Nd4jBackend {
  /**
   * Lower than any real backend (CPU 0, GPU 100); small enough that ND4J's subtraction cannot
   * overflow.
   */
  private static final int PRIORITY = Integer.MIN_VALUE / 4;

  /** Called by {@link java.util.ServiceLoader}: chooses the native build. */
  public NativeSelectionHook() {
    NativeTuning.apply();
  }

  @Override
  public boolean allowsOrder() {
    return false;
  }

  @Override
  public int getPriority() {
    return PRIORITY;
  }

  @Override
  public boolean isAvailable() {
    return false;
  }

  @Override
  public boolean canRun() {
    return false;
  }

  @Override
  public Resource getConfigurationResource() {
    throw new UnsupportedOperationException("not a backend");
  }

  @Override
  public Class getNDArrayClass() {
    throw new UnsupportedOperationException("not a backend");
  }

  @Override
  public Environment getEnvironment() {
    throw new UnsupportedOperationException("not a backend");
  }

  @Override
  public String buildInfo() {
    return "Graft's native-build selector (not a backend)";
  }

  @Override
  public void logBackendInit() {
    // not a backend: nothing to log
  }
}
