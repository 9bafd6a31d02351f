package dev.graft.features;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The feature cache's file format: a segment holds the float32 rows of some images.
 *
 * <p>Layout (little endian): a 64-byte header (magic {@code GRFTFEAT}, format version, row count,
 * item rank and up to six dimensions, the key tag, a CRC32C of everything but the checksum field),
 * then 32 bytes of content hash per row, then the rows. A segment is written under a temporary name
 * that carries the writer's process id ({@link #TEMP_PREFIX}{@code <pid>-<uuid>.tmp}), forced to
 * disk, then atomically renamed, so no reader ever sees a partial segment and a leftover temporary
 * file names the process that wrote it.
 */
final class SegmentFile {
  static final byte[] MAGIC = "GRFTFEAT".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_BYTES = 64;
  static final int MAX_RANK = 6;
  static final String SUFFIX = ".feat";
  static final String TEMP_PREFIX = ".seg-";
  static final String TEMP_SUFFIX = ".tmp";
  static final long MAX_BYTES = 1L << 30;

  /** Header bytes covered by the checksum: everything before the checksum field itself. */
  private static final int CRC_OFFSET = 52;

  private SegmentFile() {}

  /** A valid segment, memory-mapped read-only. */
  record Mapped(Path file, MappedByteBuffer bytes, FloatBuffer floats, int count, long[] shape) {
    /** The content hash of row {@code row}. */
    String hash(int row) {
      byte[] hb = new byte[ContentHash.BYTES];
      bytes.get(HEADER_BYTES + ContentHash.BYTES * row, hb);
      return HexFormat.of().formatHex(hb);
    }
  }

  /**
   * What {@link #open} found: a mapped segment, or why the file is not one.
   *
   * @param segment the segment, or null
   * @param problem why the file is invalid, or null
   * @param foreign true when the file is valid for another format version or key (left alone)
   */
  record Opened(Mapped segment, String problem, boolean foreign) {}

  /** A temporary file name for this process. */
  static String tempName() {
    return TEMP_PREFIX + ProcessHandle.current().pid() + "-" + UUID.randomUUID() + TEMP_SUFFIX;
  }

  /**
   * The process id a temporary file name carries, or -1 (a name of an older layout).
   *
   * @param name a file name starting with {@code "."} and ending with {@link #TEMP_SUFFIX}
   */
  static long writerPid(String name) {
    int start = name.indexOf('-');
    int end = start < 0 ? -1 : name.indexOf('-', start + 1);
    if (start < 0 || end < 0) {
      return -1;
    }
    try {
      return Long.parseLong(name.substring(start + 1, end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Writes rows (little-endian float32, {@code hashes.size() × itemLength}) as segments of at most
   * {@link #MAX_BYTES}: temporary file, fsync, rename.
   *
   * @return the new segments, mapped
   */
  static List<Mapped> write(
      Path dir, long keyTag, long[] itemShape, List<String> hashes, ByteBuffer data)
      throws IOException {
    long itemLength = Arrays.stream(itemShape).reduce(1, (a, b) -> a * b);
    int rowsPerSegment =
        (int) Math.max(1, (MAX_BYTES - HEADER_BYTES) / (4L * itemLength + ContentHash.BYTES));
    List<Mapped> out = new ArrayList<>();
    for (int from = 0; from < hashes.size(); from += rowsPerSegment) {
      int to = Math.min(hashes.size(), from + rowsPerSegment);
      ByteBuffer part = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      part.limit((int) (to * itemLength * 4)).position((int) (from * itemLength * 4));
      out.add(writeOne(dir, keyTag, itemShape, hashes.subList(from, to), part));
    }
    return out;
  }

  private static Mapped writeOne(
      Path dir, long keyTag, long[] itemShape, List<String> hashes, ByteBuffer data)
      throws IOException {
    int count = hashes.size();
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.put(MAGIC).putInt(VERSION).putInt(count).putInt(itemShape.length);
    for (int i = 0; i < MAX_RANK; i++) {
      header.putInt(i < itemShape.length ? (int) itemShape[i] : 0);
    }
    header.putLong(keyTag); // position == CRC_OFFSET
    ByteBuffer hashBytes = ByteBuffer.allocate(ContentHash.BYTES * count);
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

    Path tmp = dir.resolve(tempName());
    Path target =
        dir.resolve(
            String.format("%013d-%s%s", System.currentTimeMillis(), UUID.randomUUID(), SUFFIX));
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
    Opened o = open(target, keyTag, (int) crc.getValue());
    if (o == null || o.segment() == null) {
      throw new IOException("segment " + target + " is unreadable right after writing it: " + o);
    }
    return o.segment();
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /**
   * Validates and maps one segment. The checksum is verified by reading the file through the
   * channel (page cache, not this process's mapped pages, so the resident set stays small); for a
   * segment just written, {@code knownCrc} is compared instead.
   *
   * @return what was found, or null when the file no longer exists
   */
  static Opened open(Path file, long keyTag, Integer knownCrc) throws IOException {
    if (!plainFile(file)) {
      return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)
          ? new Opened(null, "not a regular file (a link, FIFO or device): never opened", true)
          : null;
    }
    MappedByteBuffer m;
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE) {
        return new Opened(null, "larger than a segment can be (" + size + " bytes)", false);
      }
      m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
      m.order(ByteOrder.LITTLE_ENDIAN);
      if (size >= 12 && Arrays.equals(magic(m), MAGIC) && m.getInt(8) != VERSION) {
        return new Opened(null, "format version " + m.getInt(8), true);
      }
      String problem = validateHeader(m, keyTag);
      if (problem == null) {
        int crc = knownCrc != null ? knownCrc : checksum(ch, size);
        if (crc != m.getInt(CRC_OFFSET)) {
          problem = "checksum mismatch";
        }
      }
      if (problem != null) {
        return new Opened(null, problem, false);
      }
    } catch (NoSuchFileException e) {
      return null; // deleted by another process meanwhile
    }
    int count = m.getInt(12);
    long[] shape = new long[m.getInt(16)];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = m.getInt(20 + 4 * i);
    }
    FloatBuffer floats =
        m.duplicate()
            .order(ByteOrder.LITTLE_ENDIAN)
            .position(HEADER_BYTES + ContentHash.BYTES * count)
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer();
    return new Opened(new Mapped(file, m, floats, count, shape), null, false);
  }

  /**
   * The row count a segment's header declares (for listing a cache without mapping it), or 0 when
   * the file is not a segment of this format.
   */
  static int declaredCount(Path file) {
    if (!plainFile(file)) {
      return 0;
    }
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      while (h.hasRemaining() && ch.read(h) >= 0) {
        // header prefix
      }
      if (h.position() < 16) {
        return 0;
      }
      byte[] mg = new byte[MAGIC.length];
      h.get(0, mg);
      return Arrays.equals(mg, MAGIC) && h.getInt(8) == VERSION ? Math.max(0, h.getInt(12)) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static byte[] magic(MappedByteBuffer m) {
    byte[] mg = new byte[MAGIC.length];
    m.get(0, mg);
    return mg;
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

  private static String validateHeader(MappedByteBuffer m, long keyTag) {
    long size = m.capacity();
    if (size < HEADER_BYTES) {
      return "shorter than its header (" + size + " bytes)";
    }
    if (!Arrays.equals(magic(m), MAGIC)) {
      return "bad magic";
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
    long expected = HEADER_BYTES + (long) count * (ContentHash.BYTES + 4L * len);
    if (size != expected) {
      return "size " + size + " bytes, header says " + expected + " (truncated?)";
    }
    return null;
  }

  /**
   * Whether {@code file} is a regular file, not a symbolic link: the cache reads and writes only
   * its own plain files, so a FIFO cannot hang it and a link cannot lead it outside its folder.
   */
  static boolean plainFile(Path file) {
    return Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
  }
}
