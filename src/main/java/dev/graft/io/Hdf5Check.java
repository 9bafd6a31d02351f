package dev.graft.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What can be checked about an HDF5 file in Java before the native HDF5 library parses it: that it
 * is a regular file no larger than the weights of {@link Limits#maxParameters()} doubles (plus 256
 * MiB of structure), that it carries the HDF5 signature (at offset 0 or after a user block of 512,
 * 1024, 2048, ... bytes), that its superblock has a known version and sizes, and that the
 * end-of-file address the superblock records is within the file (a truncated file is refused here,
 * not inside the native parser). Everything past the superblock (object headers, B-trees, heaps) is
 * parsed by the native library, which Graft trusts (see {@code docs/security.md}); the dataset
 * shapes it reports are compared with the architecture before any dataset is read.
 */
public final class Hdf5Check {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

  private Hdf5Check() {}

  /**
   * Checks {@code file} as above.
   *
   * @throws NoSuchFileException if there is no such file
   * @throws RefusedFileException naming the file and what is wrong
   */
  public static void check(Path file, Limits limits) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "no HDF5 file there");
    }
    if (!Files.isRegularFile(file)) {
      throw new RefusedFileException(file, null, "not a regular file");
    }
    long size = Files.size(file);
    long max = limits.maxParameters() * 8 + (256L << 20);
    if (size > max) {
      throw new RefusedFileException(
          file,
          null,
          "is "
              + size
              + " bytes, more than the "
              + max
              + " allowed for weights (graft.limits.maxParameters)");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long at = -1;
      for (long offset = 0; offset + 48 <= size; offset = offset == 0 ? 512 : offset * 2) {
        if (java.util.Arrays.equals(read(ch, offset, 8), SIGNATURE)) {
          at = offset;
          break;
        }
      }
      if (at < 0) {
        throw new RefusedFileException(
            file,
            null,
            "not an HDF5 file (no HDF5 signature); refused" + " before the HDF5 library saw it");
      }
      ByteBuffer sb =
          ByteBuffer.wrap(read(ch, at, (int) Math.min(size - at, 128)))
              .order(ByteOrder.LITTLE_ENDIAN);
      int version = sb.get(8) & 0xff;
      int offsets;
      int eofAt;
      int baseAt;
      switch (version) {
        case 0, 1 -> {
          offsets = sb.get(13) & 0xff;
          int fixed = version == 0 ? 24 : 28;
          baseAt = fixed;
          eofAt = fixed + 2 * offsets;
        }
        case 2, 3 -> {
          offsets = sb.get(9) & 0xff;
          baseAt = 12;
          eofAt = 12 + 2 * offsets;
        }
        default ->
            throw new RefusedFileException(
                file, null, "HDF5 superblock version " + version + " is not one Graft knows (0-3)");
      }
      if (offsets != 4 && offsets != 8) {
        throw new RefusedFileException(
            file, null, "HDF5 superblock with " + offsets + "-byte addresses");
      }
      if (eofAt + offsets > sb.limit()) {
        throw new RefusedFileException(file, null, "truncated HDF5 superblock");
      }
      long base = offsets == 8 ? sb.getLong(baseAt) : sb.getInt(baseAt) & 0xffffffffL;
      long eof = offsets == 8 ? sb.getLong(eofAt) : sb.getInt(eofAt) & 0xffffffffL;
      if (base < 0 || eof < 0 || base > size || eof > size - base) { // eof is relative to base
        throw new RefusedFileException(
            file,
            null,
            "truncated: the HDF5 superblock says the file"
                + " ends at byte "
                + (base + eof)
                + " but it has "
                + size);
      }
    }
  }

  private static byte[] read(FileChannel ch, long offset, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b, offset + b.position()) < 0) {
        break;
      }
    }
    return b.array();
  }
}
