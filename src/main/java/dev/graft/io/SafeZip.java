package dev.graft.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A zip file whose entries have been vetted before any is read: at most {@link Limits#maxEntries()}
 * entries, only the names the caller allows, no duplicate or directory entries. Each entry is then
 * read through a stream that counts the inflated bytes and refuses the entry as soon as it exceeds
 * its cap or its declared size (a header is never trusted), or ends short of its declared size.
 *
 * <pre>{@code
 * try (SafeZip zip = SafeZip.open(file, file, "", Set.of("a.json", "b.bin"), Limits.defaults())) {
 *   byte[] json = zip.readAll("a.json", 1 << 20);
 * }
 * }</pre>
 */
public final class SafeZip implements AutoCloseable {
  private final Path file;
  private final String prefix;
  private final ZipFile zip;
  private final Map<String, ZipEntry> entries;

  private SafeZip(Path file, String prefix, ZipFile zip, Map<String, ZipEntry> entries) {
    this.file = file;
    this.prefix = prefix;
    this.zip = zip;
    this.entries = entries;
  }

  /**
   * Opens {@code zipFile} and vets its entry list.
   *
   * @param zipFile the zip on disk
   * @param shownAs the file named in errors (the zip itself, or the file it was extracted from)
   * @param prefix put before entry names in errors ({@code "network.zip/"}), or empty
   * @param allowed the entry names that may be present; any other is refused by name
   * @throws NoSuchFileException if there is no such file
   * @throws RefusedFileException if it is not a zip, is truncated, or holds an entry not allowed
   */
  public static SafeZip open(
      Path zipFile, Path shownAs, String prefix, Set<String> allowed, Limits limits)
      throws IOException {
    if (!Files.exists(zipFile)) {
      throw new NoSuchFileException(shownAs.toString());
    }
    ZipFile zip;
    try {
      zip = new ZipFile(zipFile.toFile());
    } catch (ZipException | java.io.EOFException e) {
      // EOFException: a file that ends inside what its end record points at (found by fuzzing)
      throw new RefusedFileException(
          shownAs,
          prefix.isEmpty() ? null : strip(prefix),
          "not a zip file, or truncated ("
              + (e.getMessage() == null ? e.toString() : e.getMessage())
              + ")",
          e);
    }
    try {
      if (zip.size() > limits.maxEntries()) {
        throw new RefusedFileException(
            shownAs,
            prefix.isEmpty() ? null : strip(prefix),
            "holds " + zip.size() + " entries, more than the " + limits.maxEntries() + " allowed");
      }
      Map<String, ZipEntry> found = new LinkedHashMap<>();
      var it = zip.entries();
      while (it.hasMoreElements()) {
        ZipEntry e;
        try {
          e = it.nextElement();
        } catch (IllegalArgumentException badName) {
          // an entry name that is not valid UTF-8 (found by fuzzing a checkpoint)
          throw new RefusedFileException(
              shownAs,
              prefix.isEmpty() ? null : strip(prefix),
              "an entry name is not valid UTF-8 (" + badName.getMessage() + ")",
              badName);
        }
        String name = e.getName();
        if (!allowed.contains(name)) {
          throw new RefusedFileException(
              shownAs,
              prefix + name,
              "unexpected entry, refused"
                  + " without reading it (allowed: "
                  + String.join(", ", new java.util.TreeSet<>(allowed))
                  + ")");
        }
        if (e.isDirectory() || found.put(name, e) != null) {
          throw new RefusedFileException(shownAs, prefix + name, "duplicate or directory entry");
        }
      }
      return new SafeZip(shownAs, prefix, zip, Collections.unmodifiableMap(found));
    } catch (RuntimeException e) {
      zip.close();
      throw e;
    }
  }

  private static String strip(String prefix) {
    return prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
  }

  /** Whether the zip has this entry. */
  public boolean has(String name) {
    return entries.containsKey(name);
  }

  /** The bytes entry {@code name} takes in the zip (its compressed size), or -1 when unknown. */
  public long compressedSize(String name) {
    ZipEntry e = entries.get(name);
    return e == null ? -1 : e.getCompressedSize();
  }

  /** The entry names, in file order. */
  public Set<String> names() {
    return entries.keySet();
  }

  /** The size the zip's central directory declares for an entry (not trusted; -1 if unknown). */
  public long declaredSize(String name) {
    ZipEntry e = entries.get(name);
    return e == null ? -1 : e.getSize();
  }

  /** The name used in errors for an entry ({@code prefix + name}). */
  public String shownName(String name) {
    return prefix + name;
  }

  /** The file named in errors. */
  public Path shownFile() {
    return file;
  }

  /**
   * A stream over an entry's inflated bytes that refuses the entry (with a {@link
   * RefusedFileException}, an unchecked exception, thrown from {@code read}) once more than {@code
   * cap} bytes or more than its declared size come out, and at the end if fewer than declared came
   * out.
   *
   * @throws RefusedFileException if the entry is missing or declares more than {@code cap} bytes
   */
  public InputStream open(String name, long cap) throws IOException {
    ZipEntry e = entries.get(name);
    if (e == null) {
      throw new RefusedFileException(file, prefix + name, "missing");
    }
    long declared = e.getSize();
    if (declared > cap) {
      throw new RefusedFileException(
          file,
          prefix + name,
          "declares " + declared + " bytes, more than the " + cap + " allowed");
    }
    InputStream raw;
    try {
      raw = zip.getInputStream(e);
    } catch (ZipException | java.io.EOFException ze) {
      throw new RefusedFileException(file, prefix + name, "damaged (" + ze.getMessage() + ")", ze);
    }
    return new Bounded(raw, file, prefix + name, cap, declared);
  }

  /** All bytes of an entry, at most {@code cap} (see {@link #open}). */
  public byte[] readAll(String name, long cap) throws IOException {
    try (InputStream in = open(name, cap)) {
      return in.readAllBytes();
    }
  }

  /** Copies an entry to {@code out}, at most {@code cap} bytes (see {@link #open}). */
  public long copy(String name, long cap, OutputStream out) throws IOException {
    try (InputStream in = open(name, cap)) {
      return in.transferTo(out);
    }
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }

  /** Counts inflated bytes; refuses past the cap or the declared size, and a short entry. */
  static final class Bounded extends FilterInputStream {
    private final Path file;
    private final String entry;
    private final long cap;
    private final long declared;
    private long count;

    Bounded(InputStream in, Path file, String entry, long cap, long declared) {
      super(in);
      this.file = file;
      this.entry = entry;
      this.cap = cap;
      this.declared = declared;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = super.read(b, off, len);
      } catch (ZipException | java.io.EOFException e) {
        throw new RefusedFileException(
            file,
            entry,
            "damaged or truncated after " + count + " bytes (" + e.getMessage() + ")",
            e);
      }
      if (n < 0) {
        if (declared >= 0 && count != declared) {
          throw new RefusedFileException(
              file,
              entry,
              "ends after "
                  + count
                  + " bytes but its header declares "
                  + declared
                  + " (lying header or truncated)");
        }
        return n;
      }
      count += n;
      if (count > cap) {
        throw new RefusedFileException(
            file,
            entry,
            "inflates to more than the " + cap + " bytes allowed (zip bomb?); refused");
      }
      if (declared >= 0 && count > declared) {
        throw new RefusedFileException(
            file,
            entry,
            "inflates to more than the "
                + declared
                + " bytes its header declares (lying header); refused");
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buf = new byte[(int) Math.min(8192, Math.max(1, n))];
      long done = 0;
      while (done < n) {
        int r = read(buf, 0, (int) Math.min(buf.length, n - done));
        if (r < 0) {
          break;
        }
        done += r;
      }
      return done;
    }

    long count() {
      return count;
    }
  }
}
