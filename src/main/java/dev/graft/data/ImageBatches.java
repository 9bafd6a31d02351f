package dev.graft.data;

import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Preprocessed minibatches of an {@link ImageDataset}, decoded and augmented by background threads
 * while the network works on the previous batch: a DL4J {@link DataSetIterator} whose {@code
 * next()} gives features {@code [N, 3, size, size]} (float, NCHW, already preprocessed by the
 * {@link ImageTransform}) and one-hot labels {@code [N, numClasses]}.
 *
 * <pre>{@code
 * try (ImageBatches batches = ImageBatches.builder(train, ImageTransform.of(224, Preprocessing.caffe()))
 *     .batchSize(32).shuffle(42).augmentation(Augmentation.standard()).prefetch(2).build()) {
 *   graph.fit(batches, 10);
 *   log.info("skipped: {}", batches.skipped());
 * }
 * }</pre>
 *
 * <ul>
 *   <li><b>Order</b>: the dataset's order, or with {@link Builder#shuffle(long)} a permutation
 *       drawn from the seed and the epoch number (the epoch advances on a {@link #reset()} after at
 *       least one batch was taken). Augmentation draws come from a generator seeded by the seed,
 *       the epoch and the sample, so the batches are identical whatever the thread count and
 *       timing.
 *   <li><b>Memory</b>: at most {@code prefetch} batches are being decoded ahead of the one being
 *       assembled, and at most {@code threads} full-size images are decoded at a time.
 *   <li><b>Bad files</b>: a file that fails to decode is left out of its batch (which is then one
 *       short) with one warning per file and listed by {@link #skipped()}; with {@link
 *       Builder#strict(boolean)} it stops the run with a {@link GraftException} naming it. Scanning
 *       with {@link ScanOptions#verify()} finds such files before training instead.
 *   <li>Each {@link DataSet} carries the file paths of its examples as example metadata (Strings).
 * </ul>
 *
 * <p>Not thread-safe (one consumer, like every {@link DataSetIterator}); {@link #close()} stops the
 * threads (idle threads also stop by themselves after a few seconds).
 *
 * <p>Why one class of this size: it is DL4J's {@code DataSetIterator} contract plus the prefetch
 * threads behind it, and both must agree on reset, shuffling and shutdown.
 */
public final class ImageBatches implements DataSetIterator, AutoCloseable {

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(ImageBatches.class);
  private static final AtomicInteger POOL_IDS = new AtomicInteger();

  /** Default seed for augmentation when no shuffle seed was given. */
  public static final long DEFAULT_SEED = 42L;

  private final transient ImageDataset data;
  private final ImageTransform transform;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final Augmentation augmentation;
  private final int prefetch;
  private final int threads;
  private final boolean strict;

  private transient ThreadPoolExecutor pool;
  private transient ArrayDeque<Pending> pending = new ArrayDeque<>();

  /** Feature arrays of finished batches, reused (a 224 px batch of 32 is 19 MB). */
  private transient ArrayDeque<float[]> free = new ArrayDeque<>();

  private transient int[] order;
  private transient boolean started;
  private transient int epoch;
  private transient int nextToSubmit;
  private transient int returned;
  private transient DataSet ready;
  private transient DataSetPreProcessor preProcessor;
  private transient Map<Path, String> skipped = Collections.synchronizedMap(new LinkedHashMap<>());

  private ImageBatches(Builder b) {
    this.data = b.data;
    this.transform = b.transform;
    this.batchSize = b.batchSize;
    this.shuffle = b.shuffle;
    this.seed = b.seed;
    this.augmentation = b.augmentation;
    this.prefetch = b.prefetch;
    this.threads = b.threads;
    this.strict = b.strict;
  }

  /**
   * Starts a builder; defaults: batch size 32, dataset order, no augmentation, prefetch 2 batches,
   * {@code min(4, processors)} threads, lenient about bad files.
   */
  public static Builder builder(ImageDataset data, ImageTransform transform) {
    return new Builder(data, transform);
  }

  /** Configures an {@link ImageBatches}. */
  public static final class Builder {
    private final ImageDataset data;
    private final ImageTransform transform;
    private int batchSize = 32;
    private boolean shuffle;
    private long seed = DEFAULT_SEED;
    private Augmentation augmentation = Augmentation.none();
    private int prefetch = 2;
    private int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private boolean strict;

    private Builder(ImageDataset data, ImageTransform transform) {
      this.data = Objects.requireNonNull(data, "data");
      this.transform = Objects.requireNonNull(transform, "transform");
    }

    /** Images per batch (the last batch of an epoch may be smaller). */
    public Builder batchSize(int batchSize) {
      this.batchSize = Ranges.batchSize(batchSize);
      return this;
    }

    /** Shuffles every epoch with a permutation drawn from {@code seed} and the epoch number. */
    public Builder shuffle(long seed) {
      this.shuffle = true;
      this.seed = seed;
      return this;
    }

    /** Seed for augmentation without shuffling (with {@link #shuffle(long)}, that seed is used). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Augmentation for training; {@link Augmentation#none()} by default. */
    public Builder augmentation(Augmentation augmentation) {
      this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
      return this;
    }

    /** Batches decoded ahead of the one being consumed (at least 1). */
    public Builder prefetch(int batches) {
      if (batches < 1) {
        throw new GraftException("prefetch must be at least 1 batch, got " + batches);
      }
      this.prefetch = batches;
      return this;
    }

    /** Decoding threads (at least 1); the output does not depend on it. */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new GraftException("decoding threads must be at least 1, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    /** If true, the first file that fails to decode stops the run; otherwise it is skipped. */
    public Builder strict(boolean strict) {
      this.strict = strict;
      return this;
    }

    /** The iterator; nothing is decoded until the first {@code hasNext()} or {@code next()}. */
    public ImageBatches build() {
      return new ImageBatches(this);
    }
  }

  /** One batch being decoded. */
  private static final class Pending {
    final Sample[] samples;
    final float[] features;
    final String[] errors;
    final List<Future<?>> futures = new ArrayList<>();

    Pending(Sample[] samples, float[] features) {
      this.samples = samples;
      this.features = features;
      this.errors = new String[samples.length];
    }
  }

  /** The dataset being iterated. */
  public ImageDataset dataset() {
    return data;
  }

  /** The transform applied to every image. */
  public ImageTransform transform() {
    return transform;
  }

  /** Number of batches in one epoch (before any bad files are left out). */
  public int batchesPerEpoch() {
    return (data.size() + batchSize - 1) / batchSize;
  }

  /** The current epoch, counted from 0. */
  public int epoch() {
    return epoch;
  }

  /**
   * The epoch the next pass (after the next {@link #reset()}) will deliver: its shuffle and
   * augmentation draws. A training checkpoint records it.
   */
  public int nextEpoch() {
    return returned > 0 ? epoch + 1 : epoch;
  }

  /**
   * Rewinds so that the next pass delivers epoch {@code e}'s order and draws, as a run that had
   * already done {@code e} passes would: how a resumed training run continues the sequence.
   */
  public void seekEpoch(int e) {
    if (e < 0) {
      throw new IllegalArgumentException("epoch must be >= 0, got " + e);
    }
    cancelPending();
    epoch = e;
    returned = 0;
    started = false;
    ready = null;
  }

  /** Files that failed to decode so far, with the reason, in the order they were found. */
  public List<SkippedFile> skipped() {
    synchronized (skipped) {
      List<SkippedFile> out = new ArrayList<>(skipped.size());
      skipped.forEach((p, r) -> out.add(new SkippedFile(p, r)));
      return out;
    }
  }

  private void start() {
    if (started) {
      return;
    }
    started = true;
    order = new int[data.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    if (shuffle) {
      SplittableRandom rnd = new SplittableRandom(mix(seed, epoch, 0x5EED));
      for (int i = order.length - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    nextToSubmit = 0;
    submitMore();
  }

  private ThreadPoolExecutor pool() {
    if (pool == null) {
      int id = POOL_IDS.incrementAndGet();
      AtomicInteger n = new AtomicInteger();
      pool =
          new ThreadPoolExecutor(
              threads,
              threads,
              5,
              TimeUnit.SECONDS,
              new LinkedBlockingQueue<>(),
              r -> {
                Thread t = new Thread(r, "graft-decode-" + id + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
      pool.allowCoreThreadTimeOut(true);
    }
    return pool;
  }

  private void submitMore() {
    int batches = batchesPerEpoch();
    while (pending.size() < prefetch && nextToSubmit < batches) {
      int from = nextToSubmit * batchSize;
      int to = Math.min(from + batchSize, order.length);
      Sample[] samples = new Sample[to - from];
      int[] indices = new int[to - from];
      for (int i = from; i < to; i++) {
        indices[i - from] = order[i];
        samples[i - from] = data.samples().get(order[i]);
      }
      int need = samples.length * transform.length();
      float[] buffer = free.isEmpty() || free.peek().length != need ? new float[need] : free.pop();
      Pending p = new Pending(samples, buffer);
      int currentEpoch = epoch;
      for (int i = 0; i < samples.length; i++) {
        int slot = i;
        p.futures.add(pool().submit(() -> decodeInto(p, slot, indices[slot], currentEpoch)));
      }
      pending.add(p);
      nextToSubmit++;
    }
  }

  private void decodeInto(Pending p, int slot, int sampleIndex, int epochOfBatch) {
    Path file = p.samples[slot].path();
    String known = skipped.get(file);
    if (known != null) {
      p.errors[slot] = known; // failed in an earlier epoch: do not decode it again
      return;
    }
    try {
      SplittableRandom rnd =
          augmentation.enabled()
              ? new SplittableRandom(mix(seed, epochOfBatch, sampleIndex))
              : null;
      transform.toChwInto(
          ImageDecoder.read(file), augmentation, rnd, p.features, slot * transform.length());
    } catch (IOException | RuntimeException e) {
      p.errors[slot] = SkippedFile.reason(file.toString(), e);
    }
  }

  @Override
  public boolean hasNext() {
    if (ready == null) {
      ready = produce();
    }
    return ready != null;
  }

  @Override
  public DataSet next() {
    if (!hasNext()) {
      throw new NoSuchElementException("no more batches in this epoch; call reset()");
    }
    DataSet out = ready;
    ready = null;
    returned++;
    return out;
  }

  /** The next non-empty batch, or null at the end of the epoch. */
  private DataSet produce() {
    start();
    while (!pending.isEmpty()) {
      Pending p = pending.poll();
      submitMore();
      for (Future<?> f : p.futures) {
        try {
          f.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new GraftException("interrupted while decoding images", e);
        } catch (ExecutionException e) {
          throw new GraftException("decoding images failed: " + e.getCause(), e.getCause());
        } catch (CancellationException e) {
          throw new IllegalStateException("batch was cancelled", e);
        }
      }
      DataSet ds = assemble(p);
      if (ds != null) {
        return ds;
      }
    }
    return null;
  }

  private DataSet assemble(Pending p) {
    int n = p.samples.length;
    int len = transform.length();
    int ok = 0;
    for (int i = 0; i < n; i++) {
      if (p.errors[i] != null) {
        Path file = p.samples[i].path();
        if (strict) {
          throw new GraftException("bad image file " + file + ": " + p.errors[i]);
        }
        if (skipped.putIfAbsent(file, p.errors[i]) == null) {
          new SkippedFile(file, p.errors[i]).warn(log);
        }
      } else {
        ok++;
      }
    }
    if (ok == 0) {
      return null;
    }
    float[] features = p.features;
    if (ok < n) {
      features = new float[ok * len];
    }
    int classes = data.numClasses();
    float[] labels = new float[ok * classes];
    List<Serializable> paths = new ArrayList<>(ok);
    int row = 0;
    for (int i = 0; i < n; i++) {
      if (p.errors[i] != null) {
        continue;
      }
      if (features != p.features) {
        System.arraycopy(p.features, i * len, features, row * len, len);
      }
      labels[row * classes + p.samples[i].label()] = 1f;
      paths.add(p.samples[i].path().toString());
      row++;
    }
    int s = transform.size();
    INDArray f;
    INDArray l;
    // Outside any workspace: the batch outlives the caller's scope.
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      f = ImageTransform.floats(features, ok, 3, s, s);
      l = ImageTransform.floats(labels, ok, classes);
    }
    if (free.size() <= prefetch) {
      free.push(p.features);
    }
    DataSet ds = new DataSet(f, l);
    ds.setExampleMetaData(paths);
    if (preProcessor != null) {
      preProcessor.preProcess(ds);
    }
    return ds;
  }

  /**
   * Rewinds to the start of an epoch. After at least one batch was taken, the epoch number advances
   * (a new shuffle and new augmentation draws); a reset before any batch was taken changes nothing.
   */
  @Override
  public void reset() {
    cancelPending();
    if (returned > 0) {
      epoch++;
    }
    returned = 0;
    started = false;
    ready = null;
  }

  private void cancelPending() {
    for (Pending p : pending) {
      for (Future<?> f : p.futures) {
        f.cancel(false);
      }
    }
    pending.clear();
  }

  /** Stops the decoding threads; the iterator can still be used (threads restart on demand). */
  @Override
  public void close() {
    cancelPending();
    started = false;
    ready = null;
    if (pool != null) {
      pool.shutdownNow();
      pool = null;
    }
  }

  /** Not supported: the batch size is fixed by the builder. */
  @Override
  public DataSet next(int num) {
    throw new UnsupportedOperationException(
        "ImageBatches has a fixed batch size of " + batchSize + "; use next()");
  }

  @Override
  public int inputColumns() {
    return transform.length();
  }

  @Override
  public int totalOutcomes() {
    return data.numClasses();
  }

  @Override
  public boolean resetSupported() {
    return true;
  }

  /** False: this iterator already prefetches; DL4J need not wrap it in another thread. */
  @Override
  public boolean asyncSupported() {
    return false;
  }

  @Override
  public int batch() {
    return batchSize;
  }

  @Override
  public void setPreProcessor(DataSetPreProcessor preProcessor) {
    this.preProcessor = preProcessor;
  }

  @Override
  public DataSetPreProcessor getPreProcessor() {
    return preProcessor;
  }

  @Override
  public List<String> getLabels() {
    return data.labels();
  }

  /** SplitMix64 over several values: independent streams per (seed, epoch, sample). */
  static long mix(long a, long b, long c) {
    long h = 0x9E3779B97F4A7C15L;
    for (long v : new long[] {a, b, c}) {
      h ^= v;
      h *= 0xBF58476D1CE4E5B9L;
      h ^= h >>> 31;
      h *= 0x94D049BB133111EBL;
      h ^= h >>> 29;
    }
    return h;
  }
}
