package dev.graft.train;

import java.util.Random;

/**
 * {@link Random}'s own generator (the 48-bit linear congruential one its Javadoc specifies, so the
 * numbers are exactly those of {@code new Random(seed)}) with its state readable and settable, so
 * that a checkpoint can hold it and a resumed run draws the same shuffles as an uninterrupted one.
 * Only {@link #next(int)} draws; {@code nextGaussian} is not used by the loop.
 */
final class ReplayableRandom extends Random {
  private static final long MULTIPLIER = 0x5DEECE66DL;
  private static final long ADDEND = 0xBL;
  private static final long MASK = (1L << 48) - 1;

  private long state; // set by setSeed, which Random's constructor calls; no initializer

  ReplayableRandom(long seed) {
    super(seed);
  }

  @Override
  public synchronized void setSeed(long seed) {
    state = (seed ^ MULTIPLIER) & MASK;
  }

  @Override
  protected synchronized int next(int bits) {
    state = (state * MULTIPLIER + ADDEND) & MASK;
    return (int) (state >>> (48 - bits));
  }

  /** The generator's state. */
  synchronized long state() {
    return state;
  }

  /** Continues from a {@link #state()}. */
  synchronized void restore(long s) {
    state = s & MASK;
  }
}
