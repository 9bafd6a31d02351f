package dev.graft.strategy;

import java.util.Objects;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A learning-rate schedule: linear warm-up from {@code peak / warmupSteps} to {@code peak} over the
 * first {@code warmupSteps} iterations, then a cosine decay to {@code peak * floor} at {@code
 * totalSteps}; constant after that. Counted in iterations (minibatches).
 */
public final class WarmupCosineSchedule implements ISchedule {
  private final double peak;
  private final int warmupSteps;
  private final int totalSteps;
  private final double floor;

  /**
   * Creates a schedule.
   *
   * @param peak the rate at the end of warm-up
   * @param warmupSteps iterations of linear warm-up (0: none)
   * @param totalSteps iteration at which the cosine reaches its floor
   * @param floor final rate as a fraction of {@code peak}
   */
  public WarmupCosineSchedule(
      @JsonProperty("peak") double peak,
      @JsonProperty("warmupSteps") int warmupSteps,
      @JsonProperty("totalSteps") int totalSteps,
      @JsonProperty("floor") double floor) {
    this.peak = peak;
    this.warmupSteps = Math.max(0, warmupSteps);
    this.totalSteps = Math.max(this.warmupSteps + 1, totalSteps);
    this.floor = floor;
  }

  @Override
  public double valueAt(int iteration, int epoch) {
    if (iteration < warmupSteps) {
      return peak * (iteration + 1) / warmupSteps;
    }
    if (iteration >= totalSteps) {
      return peak * floor;
    }
    double progress = (double) (iteration - warmupSteps) / (totalSteps - warmupSteps);
    return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }

  @Override
  public ISchedule clone() {
    return new WarmupCosineSchedule(peak, warmupSteps, totalSteps, floor);
  }

  /** Peak rate. */
  public double getPeak() {
    return peak;
  }

  /** Warm-up iterations. */
  public int getWarmupSteps() {
    return warmupSteps;
  }

  /** Iteration at which the decay ends. */
  public int getTotalSteps() {
    return totalSteps;
  }

  /** Final rate as a fraction of the peak. */
  public double getFloor() {
    return floor;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WarmupCosineSchedule s
        && s.peak == peak
        && s.warmupSteps == warmupSteps
        && s.totalSteps == totalSteps
        && s.floor == floor;
  }

  @Override
  public int hashCode() {
    return Objects.hash(peak, warmupSteps, totalSteps, floor);
  }

  @Override
  public String toString() {
    return "WarmupCosine(peak=" + peak + ", warmup=" + warmupSteps + ", total=" + totalSteps + ")";
  }
}
