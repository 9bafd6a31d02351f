package dev.graft.features;

import dev.graft.error.GraftException;
import dev.graft.perf.NativeTuning;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.zip.CRC32C;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An on-disk cache of the activations a frozen base computes for each image, so that they are paid
 * for once, across epochs, runs and processes.
 *
 * <p>A cache lives in a directory derived from its key (a {@link FeatureKey}: base, weights key,
 * cut point, preprocessing, input size); change any of those and a different directory is used, so
 * the cache misses. Within it each image is identified by the SHA-256 of its file bytes ({@link
 * #contentHash(Path)}), so renaming or moving an image keeps its entry and editing it misses.
 *
 * <p>Storage: append-only segment files of float32 values (little endian), each with a header
 * (magic, version, count, item shape, key tag and a CRC32C checksum of the whole file). A segment
 * is written under a unique temporary name, forced to disk and then atomically renamed, so no
 * reader ever sees a partial file and two writers (threads or processes) never collide: each
 * publishes its own segments, and a duplicate entry is harmless. A file that fails validation (a
 * truncated or corrupted segment) is logged, deleted and its entries computed again. Segments are
 * memory-mapped read-only; {@link #view(String)} reads without copying.
 *
 * <p>Memory stays bounded however many images there are: {@link #populate(List, Function)} asks the
 * featurizer for one chunk of images at a time and appends each chunk to disk before the next.
 *
 * <pre>{@code
 * try (FeatureCache cache = FeatureCache.open(Path.of("features"), key)) {
 *   INDArray features = cache.computeIfAbsent(images, batch -> featurize(batch)); // [N, F]
 * }
 * }</pre>
 *
 * <p>Instances are thread-safe (methods are synchronized).
 *
 * <p>Why one class of this size: the file format, the index, the staleness checks and the featurize
 * driver share one invariant (an entry is visible only once its rows are complete on disk), which
 * is easier to check in one place; splitting the format from the driver is the next step (see
 * docs/architecture.md, "Known departures").
 */
public final class FeatureCache implements AutoCloseable {
  static {
    NativeTuning.apply(); // before this class touches ND4J: the native build for this CPU
  }

  private static final Logger log = LoggerFactory.getLogger(FeatureCache.class);

  static final byte[] MAGIC = "GRFTFEAT".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_BYTES = 64;
  static final int HASH_BYTES = 32;
  static final int MAX_RANK = 6;

  /** Header bytes covered by the checksum: everything before the checksum field itself. */
  private static final int CRC_OFFSET = 52;

  static final String SEGMENT_SUFFIX = ".feat";
  static final String TEMP_SUFFIX = ".tmp";
  private static final String KEY_FILE = "key.txt";
  private static final Duration STALE_TEMP = Duration.ofHours(6);
  private static final long FLUSH_BYTES = 16L << 20;

  /**
   * Read buffer for {@link #contentHash}, one per thread: hashing 100,000 files makes no garbage.
   */
  private static final ThreadLocal<byte[]> HASH_BUFFER =
      ThreadLocal.withInitial(() -> new byte[64 * 1024]);

  private static final long MAX_SEGMENT_BYTES = 1L << 30;

  /**
   * Images per featurizer call in {@link #populate}, unless {@link #chunkSize(int)} says otherwise.
   */
  public static final int DEFAULT_CHUNK_SIZE = 256;

  private final Path dir;
  private final String keyText;
  private final long keyTag;

  private long[] itemShape;
  private int itemLength;
  private final List<Segment> segments = new ArrayList<>();
  private final Set<String> seenFiles = new HashSet<>();
  private final Map<String, Long> index = new HashMap<>();
  private final LinkedHashMap<String, float[]> pending = new LinkedHashMap<>();
  private long pendingBytes;
  private int chunkSize = DEFAULT_CHUNK_SIZE;
  private long hits;
  private long misses;
  private long discardedFiles;
  private boolean closed;

  private record Segment(Path file, MappedByteBuffer bytes, FloatBuffer floats, int count) {}

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

  private FeatureCache(Path dir, String keyText) {
    this.dir = dir;
    this.keyText = keyText;
    this.keyTag =
        ByteBuffer.wrap(HexFormat.of().parseHex(FeatureKey.digest(keyText), 0, 16)).getLong();
  }

  /**
   * Opens (creating if needed) the cache for {@code key} under {@code root}.
   *
   * @param root directory that holds caches of any key
   * @param key the cache key; any change to it gives a different, empty cache
   * @return the open cache, with every valid segment already on disk mapped
   * @throws IOException if the directory cannot be created or read
   */
  public static FeatureCache open(Path root, FeatureKey key) throws IOException {
    return open(root, key.canonical());
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
    if (key == null || key.isEmpty()) {
      throw new GraftException("feature cache key may not be empty, got '" + key + "'");
    }
    Path dir = root.resolve(FeatureKey.digest(key).substring(0, 32));
    Files.createDirectories(dir);
    writeKeyFile(dir, key);
    FeatureCache cache = new FeatureCache(dir, key);
    cache.refresh();
    log.debug(
        "feature cache {} open: {} entries in {} segments",
        dir,
        cache.index.size(),
        cache.segments.size());
    return cache;
  }

  private static void writeKeyFile(Path dir, String key) throws IOException {
    Path keyFile = dir.resolve(KEY_FILE);
    if (Files.exists(keyFile)) {
      String existing = Files.readString(keyFile, StandardCharsets.UTF_8);
      if (!existing.equals(key)) {
        throw new GraftException(
            "feature cache directory "
                + dir
                + " holds a different key (hash collision?): "
                + existing);
      }
      return;
    }
    Path tmp = dir.resolve("." + KEY_FILE + "-" + UUID.randomUUID() + TEMP_SUFFIX);
    Files.writeString(tmp, key, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, keyFile, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      if (!Files.exists(keyFile)) {
        throw e;
      }
    }
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
    return Optional.ofNullable(itemShape).map(long[]::clone);
  }

  /** Number of distinct images held. */
  public synchronized int size() {
    ensureOpen();
    return index.size() + pending.size();
  }

  /** Current counters. */
  public synchronized Stats stats() {
    return new Stats(index.size() + pending.size(), segments.size(), hits, misses, discardedFiles);
  }

  /**
   * Whether the image with this content hash is cached.
   *
   * @param contentHash lower-case hex SHA-256 of the image file
   * @return true on a hit
   */
  public synchronized boolean contains(String contentHash) {
    ensureOpen();
    return index.containsKey(contentHash) || pending.containsKey(contentHash);
  }

  /**
   * The cached features of one image, copied into a new array.
   *
   * @param contentHash lower-case hex SHA-256 of the image file
   * @return the features, flattened in C order, or empty on a miss
   */
  public synchronized Optional<float[]> get(String contentHash) {
    ensureOpen();
    float[] p = pending.get(contentHash);
    if (p != null) {
      return Optional.of(p.clone());
    }
    return view(contentHash)
        .map(
            v -> {
              float[] out = new float[v.remaining()];
              v.get(out);
              return out;
            });
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
    float[] p = pending.get(contentHash);
    if (p != null) {
      return Optional.of(FloatBuffer.wrap(p).asReadOnlyBuffer());
    }
    Long loc = index.get(contentHash);
    if (loc == null) {
      return Optional.empty();
    }
    Segment s = segments.get((int) (loc >>> 32));
    int row = (int) (long) loc;
    return Optional.of(s.floats().slice(row * itemLength, itemLength).asReadOnlyBuffer());
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
    checkHash(contentHash);
    if (itemShape == null) {
      setItemShape(new long[] {features.length});
    } else if (features.length != itemLength) {
      throw new GraftException(
          "feature length "
              + features.length
              + " does not match the cache's item shape "
              + Arrays.toString(itemShape)
              + " in "
              + dir);
    }
    if (contains(contentHash)) {
      return;
    }
    pending.put(contentHash, features.clone());
    pendingBytes += 4L * features.length + HASH_BYTES;
    if (pendingBytes >= FLUSH_BYTES) {
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
    long[] shape = Arrays.copyOfRange(features.shape(), 1, features.rank());
    if (itemShape == null) {
      setItemShape(shape);
    } else if (!Arrays.equals(shape, itemShape)) {
      throw new GraftException(
          "feature shape "
              + Arrays.toString(shape)
              + " does not match the cache's item shape "
              + Arrays.toString(itemShape)
              + " in "
              + dir);
    }
    contentHashes.forEach(FeatureCache::checkHash);
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
    if (pending.isEmpty()) {
      return;
    }
    ByteBuffer data =
        ByteBuffer.allocateDirect(Math.toIntExact(4L * itemLength * pending.size()))
            .order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer fb = data.asFloatBuffer();
    for (float[] f : pending.values()) {
      fb.put(f);
    }
    List<String> hashes = new ArrayList<>(pending.keySet());
    pending.clear();
    pendingBytes = 0;
    writeSegment(hashes, data);
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
    ensureOpen();
    List<String> hashes = new ArrayList<>(images.size());
    LinkedHashMap<String, Path> missing = new LinkedHashMap<>();
    for (Path image : images) {
      String h = contentHash(image);
      hashes.add(h);
      if (!contains(h)) {
        missing.putIfAbsent(h, image);
      }
    }
    if (!missing.isEmpty()) {
      refresh();
    }
    List<Map.Entry<String, Path>> todo = new ArrayList<>(missing.entrySet());
    long computedNow = 0;
    for (int from = 0; from < todo.size(); from += chunkSize) {
      if (from > 0) {
        refresh();
      }
      List<String> chunkHashes = new ArrayList<>();
      List<Path> chunkPaths = new ArrayList<>();
      for (Map.Entry<String, Path> e :
          todo.subList(from, Math.min(todo.size(), from + chunkSize))) {
        if (!contains(e.getKey())) {
          chunkHashes.add(e.getKey());
          chunkPaths.add(e.getValue());
        }
      }
      if (chunkPaths.isEmpty()) {
        continue;
      }
      INDArray out = featurizer.apply(List.copyOf(chunkPaths));
      if (out == null || out.rank() < 2 || out.size(0) != chunkPaths.size()) {
        throw new GraftException(
            "featurizer returned "
                + (out == null ? "null" : Arrays.toString(out.shape()))
                + " for "
                + chunkPaths.size()
                + " images; expected one row per image");
      }
      putAll(chunkHashes, out);
      if (out.closeable()) {
        out.close(); // written to disk: release native memory now, so memory stays bounded
      }
      computedNow += chunkPaths.size();
    }
    misses += computedNow;
    hits += images.size() - computedNow;
    if (computedNow > 0) {
      log.info(
          "feature cache {}: {} of {} images featurized, the rest read from cache",
          dir.getFileName(),
          computedNow,
          images.size());
    }
    return hashes;
  }

  /**
   * Reads cached rows into one array.
   *
   * @param contentHashes hashes of cached images (each must be present)
   * @return {@code [N, ...itemShape]} float32, in the given order
   */
  public synchronized INDArray rows(List<String> contentHashes) {
    ensureOpen();
    if (itemShape == null) {
      if (contentHashes.isEmpty()) {
        throw new GraftException("feature cache " + dir + " is empty: no item shape to return");
      }
      throw new GraftException("image " + contentHashes.get(0) + " is not in feature cache " + dir);
    }
    long[] shape = new long[itemShape.length + 1];
    shape[0] = contentHashes.size();
    System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
    INDArray out = Nd4j.createUninitializedDetached(DataType.FLOAT, shape);
    FloatBuffer dst = out.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    int pos = 0;
    for (String h : contentHashes) {
      float[] p = pending.get(h);
      if (p != null) {
        dst.put(pos, p);
      } else {
        Long loc = index.get(h);
        if (loc == null) {
          throw new GraftException("image " + h + " is not in feature cache " + dir);
        }
        Segment s = segments.get((int) (loc >>> 32));
        dst.put(pos, s.floats(), ((int) (long) loc) * itemLength, itemLength);
      }
      pos += itemLength;
    }
    return out;
  }

  /**
   * Scans the directory for segments published since the last scan (by this or another process),
   * validates and maps them, and deletes invalid ones and stale temporary files.
   *
   * @throws IOException if the directory cannot be listed
   */
  public synchronized void refresh() throws IOException {
    ensureOpen();
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (name.endsWith(SEGMENT_SUFFIX) && !seenFiles.contains(name)) {
          files.add(p);
        } else if (name.endsWith(TEMP_SUFFIX)) {
          deleteIfStale(p);
        }
      }
    }
    files.sort(null);
    for (Path f : files) {
      seenFiles.add(f.getFileName().toString());
      load(f);
    }
  }

  /**
   * Flushes waiting entries and releases the mapped files.
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
      segments.clear();
      index.clear();
      pending.clear();
    }
  }

  /**
   * SHA-256 of a file's bytes, as lower-case hex: the identity of an image in the cache.
   *
   * @param file the image file
   * @return 64 hex characters
   * @throws IOException if the file cannot be read
   */
  public static String contentHash(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = HASH_BUFFER.get();
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  // ---------------------------------------------------------------------------------------------

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("feature cache " + dir + " is closed");
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static void checkHash(String h) {
    if (h == null
        || h.length() != 2 * HASH_BYTES
        || !h.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new GraftException(
          "content hash must be 64 lower-case hex characters, got '" + h + "'");
    }
  }

  private void setItemShape(long[] shape) {
    if (shape.length < 1 || shape.length > MAX_RANK) {
      throw new GraftException(
          "feature item rank must be 1.." + MAX_RANK + ", got " + Arrays.toString(shape));
    }
    long len = 1;
    for (long d : shape) {
      if (d <= 0) {
        throw new GraftException(
            "feature item shape must be positive, got " + Arrays.toString(shape));
      }
      len *= d;
    }
    if (len * 4L + HASH_BYTES > MAX_SEGMENT_BYTES) {
      throw new GraftException("feature item " + Arrays.toString(shape) + " is too large to cache");
    }
    itemShape = shape.clone();
    itemLength = (int) len;
  }

  private void deleteIfStale(Path tmp) {
    try {
      FileTime t = Files.getLastModifiedTime(tmp);
      if (t.toInstant().isBefore(Instant.now().minus(STALE_TEMP))) {
        Files.deleteIfExists(tmp);
        log.debug("deleted stale temporary file {}", tmp);
      }
    } catch (NoSuchFileException e) {
      // another process renamed or deleted it: fine
    } catch (IOException e) {
      log.debug("could not inspect temporary file {}: {}", tmp, e.toString());
    }
  }

  private ByteBuffer header(int count) {
    ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    h.put(MAGIC).putInt(VERSION).putInt(count).putInt(itemShape.length);
    for (int i = 0; i < MAX_RANK; i++) {
      h.putInt(i < itemShape.length ? (int) itemShape[i] : 0);
    }
    h.putLong(keyTag);
    return h; // position == CRC_OFFSET
  }

  /** Writes rows (already in little-endian float32 order) as a new segment: temp, fsync, rename. */
  private void writeSegment(List<String> hashes, ByteBuffer data) throws IOException {
    int rowsPerSegment =
        (int) Math.max(1, (MAX_SEGMENT_BYTES - HEADER_BYTES) / (4L * itemLength + HASH_BYTES));
    for (int from = 0; from < hashes.size(); from += rowsPerSegment) {
      int to = Math.min(hashes.size(), from + rowsPerSegment);
      ByteBuffer part = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      part.limit(to * itemLength * 4).position(from * itemLength * 4);
      writeOneSegment(hashes.subList(from, to), part);
    }
  }

  private void writeOneSegment(List<String> hashes, ByteBuffer data) throws IOException {
    int count = hashes.size();
    ByteBuffer header = header(count);
    ByteBuffer hashBytes = ByteBuffer.allocate(HASH_BYTES * count);
    HexFormat hex = HexFormat.of();
    for (String h : hashes) {
      hashBytes.put(hex.parseHex(h));
    }
    hashBytes.flip();
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, CRC_OFFSET);
    crc.update(hashBytes.duplicate());
    crc.update(data.duplicate());
    header.putInt(CRC_OFFSET, (int) crc.getValue());
    header.position(0).limit(HEADER_BYTES);

    String id = UUID.randomUUID().toString();
    Path tmp = dir.resolve(".seg-" + id + TEMP_SUFFIX);
    Path target =
        dir.resolve(String.format("%013d-%s%s", System.currentTimeMillis(), id, SEGMENT_SUFFIX));
    try (FileChannel ch =
        FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      writeFully(ch, header);
      writeFully(ch, hashBytes);
      writeFully(ch, data.duplicate());
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    seenFiles.add(target.getFileName().toString());
    load(target, (int) crc.getValue());
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Validates and maps one segment; deletes it when invalid. */
  private void load(Path file) throws IOException {
    load(file, null);
  }

  /**
   * Validates and maps one segment; deletes it when invalid. The checksum is verified by reading
   * the file through the channel (page cache, not this process's mapped pages, so the resident set
   * stays small); for a segment this instance just wrote, {@code knownCrc} is compared instead.
   */
  private void load(Path file, Integer knownCrc) throws IOException {
    MappedByteBuffer m;
    String problem;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE) {
        discard(file, "larger than a segment can be (" + size + " bytes)");
        return;
      }
      m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
      m.order(ByteOrder.LITTLE_ENDIAN);
      problem = validateHeader(m);
      if (problem == null) {
        int crc = knownCrc != null ? knownCrc : checksum(ch, size);
        if (crc != m.getInt(CRC_OFFSET)) {
          problem = "checksum mismatch";
        }
      }
    } catch (NoSuchFileException e) {
      return; // deleted by another process meanwhile
    }
    if (problem != null) {
      discard(file, problem);
      return;
    }
    int count = m.getInt(12);
    int rank = m.getInt(16);
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = m.getInt(20 + 4 * i);
    }
    if (itemShape == null) {
      setItemShape(shape);
    } else if (!Arrays.equals(shape, itemShape)) {
      discard(
          file,
          "item shape " + Arrays.toString(shape) + " differs from " + Arrays.toString(itemShape));
      return;
    }
    int bodyFloats = HEADER_BYTES + HASH_BYTES * count;
    FloatBuffer floats =
        m.duplicate()
            .order(ByteOrder.LITTLE_ENDIAN)
            .position(bodyFloats)
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer();
    int segIndex = segments.size();
    segments.add(new Segment(file, m, floats, count));
    HexFormat hex = HexFormat.of();
    byte[] hb = new byte[HASH_BYTES];
    for (int row = 0; row < count; row++) {
      m.get(HEADER_BYTES + HASH_BYTES * row, hb);
      String h = hex.formatHex(hb);
      if (!pending.containsKey(h)) {
        index.putIfAbsent(h, ((long) segIndex << 32) | row);
      }
    }
  }

  private static int checksum(FileChannel ch, long size) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    ch.position(0);
    buf.limit(CRC_OFFSET);
    while (buf.hasRemaining() && ch.read(buf) >= 0) {
      // header bytes covered by the checksum
    }
    buf.flip();
    crc.update(buf);
    ch.position(HEADER_BYTES);
    long left = size - HEADER_BYTES;
    while (left > 0) {
      buf.clear();
      if (left < buf.capacity()) {
        buf.limit((int) left);
      }
      int n = ch.read(buf);
      if (n < 0) {
        break;
      }
      left -= n;
      buf.flip();
      crc.update(buf);
    }
    return (int) crc.getValue();
  }

  private String validateHeader(MappedByteBuffer m) {
    long size = m.capacity();
    if (size < HEADER_BYTES) {
      return "shorter than its header (" + size + " bytes)";
    }
    byte[] magic = new byte[MAGIC.length];
    m.get(0, magic);
    if (!Arrays.equals(magic, MAGIC)) {
      return "bad magic";
    }
    int version = m.getInt(8);
    if (version != VERSION) {
      return "unsupported version " + version;
    }
    int count = m.getInt(12);
    int rank = m.getInt(16);
    if (count < 1 || rank < 1 || rank > MAX_RANK) {
      return "bad count " + count + " or rank " + rank;
    }
    long len = 1;
    for (int i = 0; i < rank; i++) {
      int d = m.getInt(20 + 4 * i);
      if (d <= 0) {
        return "bad dimension " + d;
      }
      len *= d;
    }
    if (m.getLong(44) != keyTag) {
      return "written for another key";
    }
    long expected = HEADER_BYTES + (long) count * (HASH_BYTES + 4L * len);
    if (size != expected) {
      return "size " + size + " bytes, header says " + expected + " (truncated?)";
    }
    return null;
  }

  private void discard(Path file, String why) throws IOException {
    log.warn(
        "feature cache file {} is invalid ({}); deleting it, its entries will be recomputed",
        file,
        why);
    discardedFiles++;
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete invalid feature cache file " + file, e);
    }
  }
}
