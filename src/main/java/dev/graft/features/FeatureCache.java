package dev.graft.features;

import dev.graft.error.GraftException;
import dev.graft.perf.NativeTuning;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An on-disk cache of the activations a frozen base computes for each image, so that they are paid
 * for once, across epochs, runs and processes: the index of one key's directory in a {@link
 * CacheRoot} and the driver that fills it.
 *
 * <p>A cache lives in a directory derived from its key (a {@link FeatureKey}); change any component
 * and a different directory is used, so the cache misses. Within it each image is identified by its
 * {@link ContentHash}, so renaming or moving an image keeps its entry and editing it misses. Rows
 * are stored in append-only, checksummed {@link SegmentFile segment files}, each published
 * atomically, so no reader sees a partial file and two writers (threads or processes) never
 * collide: a duplicate entry is harmless. A file that fails validation is logged, deleted and its
 * entries computed again. Segments are memory-mapped read-only.
 *
 * <p>Memory stays bounded however many images there are: {@link #populate} asks the featurizer for
 * one chunk of images at a time and appends each chunk to disk before the next, which is also what
 * makes an interrupted run resumable: a rerun computes only the chunks that never reached the disk.
 *
 * <pre>{@code
 * try (FeatureCache cache = CacheRoot.standard().open(key)) {
 *   INDArray features = cache.computeIfAbsent(images, batch -> featurize(batch)); // [N, F]
 * }
 * }</pre>
 *
 * <p>Instances are thread-safe (methods are synchronized).
 */
public final class FeatureCache implements AutoCloseable {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  private static final Logger log = LoggerFactory.getLogger(FeatureCache.class);

  static final String SEGMENT_SUFFIX = SegmentFile.SUFFIX;
  static final String TEMP_SUFFIX = SegmentFile.TEMP_SUFFIX;
  private static final long FLUSH_BYTES = 16L << 20;

  /**
   * Images per featurizer call in {@link #populate}, unless {@link #chunkSize(int)} says otherwise.
   */
  public static final int DEFAULT_CHUNK_SIZE = 256;

  private final CacheRoot root;
  private final CacheDirectory home;
  private final Path dir;
  private final String keyText;
  private final long keyTag;

  private final CacheIndex idx;
  private int chunkSize = DEFAULT_CHUNK_SIZE;
  private long hits;
  private long misses;
  private boolean closed;

  /**
   * Counters of one open cache.
   *
   * @param entries distinct images held (on disk or waiting to be flushed)
   * @param segments segment files mapped
   * @param hits images found in the cache by {@link #populate} / {@link #computeIfAbsent}
   * @param misses images that had to be featurized
   * @param discardedFiles invalid segment files (truncated, corrupted) detected and deleted
   */
  public record Stats(int entries, int segments, long hits, long misses, long discardedFiles) {}

  private FeatureCache(CacheRoot root, CacheDirectory home, String keyText) {
    this.root = root;
    this.home = home;
    this.dir = home.path();
    this.keyText = keyText;
    this.idx = new CacheIndex(dir);
    this.keyTag =
        ByteBuffer.wrap(HexFormat.of().parseHex(ContentHash.ofText(keyText), 0, 16)).getLong();
  }

  /**
   * Opens (creating if needed) the cache for {@code key} in the cache rooted at {@code root}; the
   * same as {@code CacheRoot.at(root).open(key)}.
   *
   * @param root directory that holds caches of any key
   * @param key the cache key; any change to it gives a different, empty cache
   * @return the open cache, with every valid segment already on disk mapped
   * @throws IOException if the directory cannot be created or read
   */
  public static FeatureCache open(Path root, FeatureKey key) throws IOException {
    return CacheRoot.at(root).open(key);
  }

  /**
   * Opens (creating if needed) the cache for an arbitrary key text under {@code root}; see {@link
   * #open(Path, FeatureKey)}.
   *
   * @param root directory that holds caches of any key
   * @param key the cache key text
   * @return the open cache
   * @throws IOException if the directory cannot be created or read
   */
  public static FeatureCache open(Path root, String key) throws IOException {
    return CacheRoot.at(root).open(key);
  }

  /** Opens the cache of {@code home} (already locked by this process) and maps its segments. */
  static FeatureCache open(CacheRoot root, CacheDirectory home, String key) throws IOException {
    FeatureCache cache = new FeatureCache(root, home, key);
    try {
      cache.refresh();
    } catch (IOException | RuntimeException e) {
      home.close();
      throw e;
    }
    log.debug(
        "feature cache {} open: {} entries in {} segments",
        cache.dir,
        cache.idx.size(),
        cache.idx.segments());
    return cache;
  }

  /**
   * Sets how many images {@link #populate} hands the featurizer at once (memory per chunk is this
   * many items of activations).
   *
   * @param images images per featurizer call, at least 1
   * @return this cache
   */
  public synchronized FeatureCache chunkSize(int images) {
    if (images < 1) {
      throw new GraftException("feature cache chunk size must be at least 1, got " + images);
    }
    this.chunkSize = images;
    return this;
  }

  /** The directory holding this key's segment files. */
  public Path directory() {
    return dir;
  }

  /** The key text this cache was opened with. */
  public String key() {
    return keyText;
  }

  /** The shape of one cached item (e.g. {@code [2048]} or {@code [1024, 14, 14]}), once known. */
  public synchronized Optional<long[]> itemShape() {
    return Optional.ofNullable(idx.itemShape()).map(long[]::clone);
  }

  /** Number of distinct images held. */
  public synchronized int size() {
    ensureOpen();
    return idx.size();
  }

  /** Current counters. */
  public synchronized Stats stats() {
    return new Stats(idx.size(), idx.segments(), hits, misses, idx.discardedFiles());
  }

  /**
   * Whether the image with this content hash is cached.
   *
   * @param contentHash lower-case hex SHA-256 of the image file
   * @return true on a hit
   */
  public synchronized boolean contains(String contentHash) {
    ensureOpen();
    return idx.contains(contentHash);
  }

  /**
   * The cached features of one image, copied into a new array.
   *
   * @param contentHash lower-case hex SHA-256 of the image file
   * @return the features, flattened in C order, or empty on a miss
   */
  public synchronized Optional<float[]> get(String contentHash) {
    ensureOpen();
    return idx.get(contentHash);
  }

  /**
   * The cached features of one image as a read-only view of the memory-mapped file: no copy.
   * Entries not yet flushed are returned as a read-only wrapper of the in-memory array.
   *
   * @param contentHash lower-case hex SHA-256 of the image file
   * @return a read-only buffer of {@code itemLength} floats, or empty on a miss
   */
  public synchronized Optional<FloatBuffer> view(String contentHash) {
    ensureOpen();
    return idx.view(contentHash);
  }

  /**
   * Adds the features of one image. The entry is visible at once and written to disk by the next
   * {@link #flush()} (or {@link #close()}, or when enough entries are waiting).
   *
   * @param contentHash lower-case hex SHA-256 of the image file
   * @param features flattened features; their length must match the items already cached
   * @throws IOException if writing a full batch of waiting entries fails
   */
  public synchronized void put(String contentHash, float[] features) throws IOException {
    ensureOpen();
    ContentHash.check(contentHash);
    idx.requireShape(new long[] {features.length});
    if (idx.addPending(contentHash, features) >= FLUSH_BYTES) {
      flush();
    }
  }

  /**
   * Writes the rows of {@code features} (shape {@code [N, ...]}, one row per hash) as one new
   * segment, at once.
   *
   * @param contentHashes N content hashes, in row order
   * @param features activations, {@code [N, ...]}
   * @throws IOException if the segment cannot be written
   */
  public synchronized void putAll(List<String> contentHashes, INDArray features)
      throws IOException {
    ensureOpen();
    if (features.rank() < 2 || features.size(0) != contentHashes.size()) {
      throw new GraftException(
          "features "
              + Arrays.toString(features.shape())
              + " do not hold one row for each of "
              + contentHashes.size()
              + " images");
    }
    idx.requireShape(Arrays.copyOfRange(features.shape(), 1, features.rank()));
    contentHashes.forEach(ContentHash::check);
    INDArray rows =
        features.dataType() == DataType.FLOAT ? features : features.castTo(DataType.FLOAT);
    if (rows.isView()
        || rows.ordering() != 'c'
        || rows.data().length() != rows.length()
        || rows.isAttached()) {
      rows = rows.dup('c');
      if (rows.isAttached()) {
        rows = rows.detach();
      }
    }
    try {
      ByteBuffer data = rows.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
      data.clear().limit(Math.toIntExact(rows.length() * 4L));
      writeSegment(contentHashes, data);
    } finally {
      if (rows != features && rows.closeable()) {
        rows.close(); // our temporary copy: free its native memory now, not at the next GC
      }
    }
  }

  /**
   * Writes all waiting {@link #put} entries to disk as one segment.
   *
   * @throws IOException if the segment cannot be written
   */
  public synchronized void flush() throws IOException {
    ensureOpen();
    CacheIndex.Drained d = idx.drainPending();
    if (d != null) {
      writeSegment(d.hashes(), d.data());
    }
  }

  /**
   * Features for every image, computing (in chunks) only those not cached: {@link #populate}
   * followed by {@link #rows}. The result holds all N rows in memory; for very large sets call
   * {@link #populate} once and read {@link #rows} a batch at a time.
   *
   * @param images image files; their bytes are hashed to find them in the cache
   * @param featurizer turns a chunk of image files into activations {@code [chunk, ...]}
   * @return {@code [N, ...itemShape]} in the order of {@code images}
   * @throws IOException if an image cannot be read or the cache cannot be written
   */
  public synchronized INDArray computeIfAbsent(
      List<Path> images, Function<List<Path>, INDArray> featurizer) throws IOException {
    List<String> hashes = populate(images, featurizer);
    return rows(hashes);
  }

  /**
   * Makes sure every image is cached, featurizing the missing ones a chunk at a time ({@link
   * #chunkSize(int)} images per featurizer call) and appending each chunk to disk before asking for
   * the next, so memory stays bounded. Before each chunk the directory is scanned again, so entries
   * another process has published meanwhile are not recomputed.
   *
   * @param images image files
   * @param featurizer turns a chunk of image files into activations {@code [chunk, ...]}; the cache
   *     takes ownership of each returned array and closes it once written
   * @return the content hash of each image, in order (for {@link #rows})
   * @throws IOException if an image cannot be read or the cache cannot be written
   */
  public synchronized List<String> populate(
      List<Path> images, Function<List<Path>, INDArray> featurizer) throws IOException {
    return populate(images, featurizer, null);
  }

  /**
   * {@link #populate(List, Function)}, telling {@code progress} the number of images done (cached
   * or computed) after each chunk.
   *
   * @param progress may be null
   */
  public synchronized List<String> populate(
      List<Path> images, Function<List<Path>, INDArray> featurizer, IntConsumer progress)
      throws IOException {
    ensureOpen();
    FeatureCacheFill.Counts c = FeatureCacheFill.run(this, images, featurizer, progress, chunkSize);
    misses += c.computed();
    hits += images.size() - c.computed();
    return c.hashes();
  }

  /**
   * Reads cached rows into one array.
   *
   * @param contentHashes hashes of cached images (each must be present)
   * @return {@code [N, ...itemShape]} float32, in the given order
   */
  public synchronized INDArray rows(List<String> contentHashes) {
    ensureOpen();
    return idx.rows(contentHashes);
  }

  /**
   * Scans the directory for segments published since the last scan (by this or another process),
   * validates and maps them, and deletes invalid ones.
   *
   * @throws IOException if the directory cannot be listed
   */
  public synchronized void refresh() throws IOException {
    ensureOpen();
    idx.scan(keyTag);
  }

  /**
   * Flushes waiting entries, releases the mapped files and this process's lock on the directory,
   * then evicts least recently used caches if the root is over its size cap.
   *
   * @throws IOException if the final flush fails
   */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      flush();
    } finally {
      closed = true;
      idx.clear();
      home.close();
    }
    root.enforceCap();
  }

  /**
   * SHA-256 of a file's bytes, as lower-case hex: the identity of an image in the cache (see {@link
   * ContentHash#of}).
   */
  public static String contentHash(Path file) throws IOException {
    return ContentHash.of(file);
  }

  // ---------------------------------------------------------------------------------------------

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("feature cache " + dir + " is closed");
    }
  }

  /** Writes rows (little-endian float32) as new segments and indexes them. */
  private void writeSegment(List<String> hashes, ByteBuffer data) throws IOException {
    for (SegmentFile.Mapped m : SegmentFile.write(dir, keyTag, idx.itemShape(), hashes, data)) {
      idx.addWritten(m);
    }
  }
}
