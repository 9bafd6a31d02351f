package dev.graft.features;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each cached image's row is, in memory: the mapped segments (found by {@link #scan}, which
 * also detects and deletes invalid files), an index from content hash to (segment, row), and the
 * rows {@link FeatureCache#put} holds until they are flushed. Not thread-safe: {@link FeatureCache}
 * guards it.
 */
final class CacheIndex {
  private static final Logger log = LoggerFactory.getLogger(CacheIndex.class);

  private final Path dir;
  private long[] itemShape;
  private int itemLength;
  private final List<SegmentFile.Mapped> segments = new ArrayList<>();
  private final Map<String, Long> index = new HashMap<>();
  private final LinkedHashMap<String, float[]> pending = new LinkedHashMap<>();
  private long pendingBytes;
  private final Set<String> seenFiles = new HashSet<>();
  private long discardedFiles;

  CacheIndex(Path dir) {
    this.dir = dir;
  }

  /** Rows waiting to be flushed, and their values. */
  record Drained(List<String> hashes, ByteBuffer data) {}

  long[] itemShape() {
    return itemShape;
  }

  int size() {
    return index.size() + pending.size();
  }

  int segments() {
    return segments.size();
  }

  boolean contains(String h) {
    return index.containsKey(h) || pending.containsKey(h);
  }

  Optional<float[]> get(String h) {
    float[] p = pending.get(h);
    if (p != null) {
      return Optional.of(p.clone());
    }
    return view(h)
        .map(
            v -> {
              float[] out = new float[v.remaining()];
              v.get(out);
              return out;
            });
  }

  Optional<FloatBuffer> view(String h) {
    float[] p = pending.get(h);
    if (p != null) {
      return Optional.of(FloatBuffer.wrap(p).asReadOnlyBuffer());
    }
    Long loc = index.get(h);
    if (loc == null) {
      return Optional.empty();
    }
    SegmentFile.Mapped s = segments.get((int) (loc >>> 32));
    int row = (int) (long) loc;
    return Optional.of(s.floats().slice(row * itemLength, itemLength).asReadOnlyBuffer());
  }

  /**
   * Fixes the item shape on first use, or checks that {@code shape} is it.
   *
   * @throws GraftException naming both shapes when they differ
   */
  void requireShape(long[] shape) {
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
  }

  /** Holds one row until the next flush; returns the bytes now waiting. */
  long addPending(String h, float[] features) {
    if (!contains(h)) {
      pending.put(h, features.clone());
      pendingBytes += 4L * features.length + ContentHash.BYTES;
    }
    return pendingBytes;
  }

  /** Takes the waiting rows out (they stay visible until the segment is indexed). */
  Drained drainPending() {
    if (pending.isEmpty()) {
      return null;
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
    return new Drained(hashes, data);
  }

  /**
   * Indexes a valid segment.
   *
   * @return null, or why the segment does not fit this cache (then it is not indexed)
   */
  private String add(SegmentFile.Mapped m) {
    if (itemShape == null) {
      setItemShape(m.shape());
    } else if (!Arrays.equals(m.shape(), itemShape)) {
      return "item shape "
          + Arrays.toString(m.shape())
          + " differs from "
          + Arrays.toString(itemShape);
    }
    int segIndex = segments.size();
    segments.add(m);
    for (int row = 0; row < m.count(); row++) {
      String h = m.hash(row);
      if (!pending.containsKey(h)) {
        index.putIfAbsent(h, ((long) segIndex << 32) | row);
      }
    }
    return null;
  }

  /** The rows of {@code hashes}, {@code [N, ...itemShape]} float32, in order. */
  INDArray rows(List<String> hashes) {
    if (itemShape == null) {
      if (hashes.isEmpty()) {
        throw new GraftException("feature cache " + dir + " is empty: no item shape to return");
      }
      throw new GraftException("image " + hashes.get(0) + " is not in feature cache " + dir);
    }
    long[] shape = new long[itemShape.length + 1];
    shape[0] = hashes.size();
    System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
    INDArray out = Nd4j.createUninitializedDetached(DataType.FLOAT, shape);
    FloatBuffer dst = out.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    int pos = 0;
    for (String h : hashes) {
      float[] p = pending.get(h);
      if (p != null) {
        dst.put(pos, p);
      } else {
        Long loc = index.get(h);
        if (loc == null) {
          throw new GraftException("image " + h + " is not in feature cache " + dir);
        }
        SegmentFile.Mapped s = segments.get((int) (loc >>> 32));
        dst.put(pos, s.floats(), ((int) (long) loc) * itemLength, itemLength);
      }
      pos += itemLength;
    }
    return out;
  }

  long discardedFiles() {
    return discardedFiles;
  }

  /**
   * Maps and indexes the segments published in the directory since the last scan (by this or
   * another process); deletes invalid ones (their entries are computed again) and leaves those of
   * another format version alone.
   */
  void scan(long keyTag) throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SegmentFile.SUFFIX)) {
      for (Path p : ds) {
        if (!seenFiles.contains(p.getFileName().toString())) {
          files.add(p);
        }
      }
    }
    files.sort(null);
    for (Path f : files) {
      seenFiles.add(f.getFileName().toString());
      SegmentFile.Opened o = SegmentFile.open(f, keyTag, null);
      if (o == null) {
        continue; // deleted by another process meanwhile
      }
      if (o.foreign()) {
        log.debug("leaving {} alone: {}", f, o.problem());
      } else if (o.problem() != null) {
        discard(f, o.problem());
      } else {
        addWritten(o.segment());
      }
    }
  }

  /** Indexes a segment this process wrote or validated; deletes it if it does not fit. */
  void addWritten(SegmentFile.Mapped m) {
    seenFiles.add(m.file().getFileName().toString());
    String misfit = add(m);
    if (misfit != null) {
      discard(m.file(), misfit);
    }
  }

  private void discard(Path file, String why) {
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

  void clear() {
    segments.clear();
    index.clear();
    pending.clear();
  }

  private void setItemShape(long[] shape) {
    if (shape.length < 1 || shape.length > SegmentFile.MAX_RANK) {
      throw new GraftException(
          "feature item rank must be 1.."
              + SegmentFile.MAX_RANK
              + ", got "
              + Arrays.toString(shape));
    }
    long len = 1;
    for (long d : shape) {
      if (d <= 0) {
        throw new GraftException(
            "feature item shape must be positive, got " + Arrays.toString(shape));
      }
      len *= d;
    }
    if (len * 4L + ContentHash.BYTES > SegmentFile.MAX_BYTES) {
      throw new GraftException("feature item " + Arrays.toString(shape) + " is too large to cache");
    }
    itemShape = shape.clone();
    itemLength = (int) len;
  }
}
