package dev.graft.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * What one executor JVM loads once and shares between all its tasks: bases and models, keyed by
 * their settings (and the size and modification time of the files they come from, so that a changed
 * file is loaded afresh). The first task that asks loads; the others wait for it.
 */
final class JvmCache {
  /** Loads one value. */
  interface Loader<V> {
    V load() throws IOException;
  }

  private static final ConcurrentHashMap<Object, CompletableFuture<Object>> VALUES =
      new ConcurrentHashMap<>();

  private JvmCache() {}

  /**
   * The value for {@code key}, loading it on the first call in this JVM. A failed load is not kept:
   * the next call tries again.
   *
   * @throws IOException as the loader threw it
   */
  @SuppressWarnings("unchecked")
  static <V> V get(Object key, Loader<V> loader) throws IOException {
    CompletableFuture<Object> mine = new CompletableFuture<>();
    CompletableFuture<Object> f = VALUES.putIfAbsent(key, mine);
    if (f == null) {
      f = mine;
      try {
        mine.complete(loader.load());
      } catch (IOException | RuntimeException | Error e) {
        VALUES.remove(key, mine);
        mine.completeExceptionally(e);
      }
    }
    try {
      return (V) f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + key + " to load", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw new IOException(io.getMessage(), io);
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new UncheckedIOException(new IOException(c));
    }
  }

  /** Forgets every value (tests; a long-lived driver JVM that is done with Graft). */
  static void clear() {
    VALUES.clear();
  }
}
