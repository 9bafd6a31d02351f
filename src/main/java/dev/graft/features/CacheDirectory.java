package dev.graft.features;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One key's directory in a {@link CacheRoot}, and who may touch it. A process that has the cache
 * open holds a shared lock on its {@code .lock} file (one lock per JVM, counted); eviction and
 * pruning take the exclusive lock, so they never delete a directory a live process is using.
 * Opening also records the time of use (the modification time of {@code last-used}) for
 * least-recently-used eviction, and deletes temporary files whose writer is dead.
 */
final class CacheDirectory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CacheDirectory.class);

  static final String KEY_FILE = "key.txt";
  static final String LOCK_FILE = ".lock";
  static final String USED_FILE = "last-used";

  /** A temporary file whose writer is alive is still never older than this. */
  private static final Duration STALE_TEMP = Duration.ofHours(6);

  /** This JVM's shared locks, by directory, with how many open caches use each. */
  private static final Map<Path, Held> HELD = new HashMap<>();

  private record Held(FileChannel channel, FileLock lock, int users) {}

  private final Path dir;
  private boolean closed;

  private CacheDirectory(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens (creating if needed) the directory of {@code key}: checks or writes its key file, takes
   * the shared lock, records the use and removes dead writers' temporary files.
   *
   * @throws GraftException when the directory holds another key
   */
  static CacheDirectory open(Path dir, String key) throws IOException {
    Path d = dir.toAbsolutePath().normalize();
    if (Files.isSymbolicLink(d)) {
      throw new GraftException(
          "feature cache folder "
              + d
              + " is a symbolic link; the cache never writes through one (remove it)");
    }
    for (int attempt = 0; ; attempt++) {
      Files.createDirectories(d);
      writeKeyFile(d, key);
      if (acquire(d)) {
        break;
      }
      if (attempt > 20) {
        throw new IOException("cannot lock feature cache directory " + d + ": evicted repeatedly");
      }
    }
    CacheDirectory c = new CacheDirectory(d);
    touch(d);
    cleanTemps(d);
    return c;
  }

  Path path() {
    return dir;
  }

  /** Records a use now. */
  static void touch(Path dir) throws IOException {
    Path used = dir.resolve(USED_FILE);
    if (!Files.exists(used)) {
      try {
        Files.createFile(used);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // another process made it
      }
    }
    Files.setLastModifiedTime(used, FileTime.from(Instant.now()));
  }

  /** When the directory was last opened (its creation when never recorded). */
  static Instant lastUsed(Path dir) {
    try {
      return Files.getLastModifiedTime(dir.resolve(USED_FILE)).toInstant();
    } catch (IOException e) {
      try {
        return Files.getLastModifiedTime(dir).toInstant();
      } catch (IOException e2) {
        return Instant.EPOCH;
      }
    }
  }

  /**
   * Runs {@code action} holding the directory's exclusive lock, if no process (this one included)
   * has it open.
   *
   * @return false, doing nothing, when the directory is in use
   */
  static boolean ifUnused(Path dir, IoAction action) throws IOException {
    Path d = dir.toAbsolutePath().normalize();
    synchronized (HELD) {
      if (HELD.containsKey(d) || Files.isSymbolicLink(d)) {
        return false; // in use, or not the cache's own folder: never locked or written through
      }
      Path lockFile = d.resolve(LOCK_FILE);
      try (FileChannel ch =
          FileChannel.open(
              lockFile,
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE,
              java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        FileLock lock;
        try {
          lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          return false;
        }
        if (lock == null) {
          return false;
        }
        try {
          action.run();
        } finally {
          if (lock.isValid()) {
            lock.release();
          }
        }
        return true;
      } catch (NoSuchFileException e) {
        return false; // the directory went away meanwhile
      }
    }
  }

  /** Something done under a lock that may fail with an I/O error. */
  @FunctionalInterface
  interface IoAction {
    void run() throws IOException;
  }

  /** Whether any process (this one included) has the directory open. */
  static boolean inUse(Path dir) throws IOException {
    boolean[] unused = {false};
    ifUnused(dir, () -> unused[0] = true);
    return !unused[0];
  }

  /** Releases this process's use of the directory; closing twice is safe. */
  @Override
  public void close() throws IOException {
    synchronized (HELD) {
      if (closed) {
        return;
      }
      closed = true;
      Held h = HELD.get(dir);
      if (h == null) {
        return;
      }
      if (h.users() > 1) {
        HELD.put(dir, new Held(h.channel(), h.lock(), h.users() - 1));
      } else {
        HELD.remove(dir);
        h.channel().close(); // releases the lock
      }
    }
  }

  /**
   * Takes (or counts another user of) the shared lock. False when the lock file was deleted by an
   * eviction between opening and locking it (then the caller starts over).
   */
  private static boolean acquire(Path d) throws IOException {
    synchronized (HELD) {
      Held h = HELD.get(d);
      if (h != null) {
        HELD.put(d, new Held(h.channel(), h.lock(), h.users() + 1));
        return true;
      }
      Path lockFile = d.resolve(LOCK_FILE);
      FileChannel ch;
      Object before;
      try {
        ch =
            FileChannel.open(
                lockFile,
                StandardOpenOption.CREATE,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE,
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        before = Files.readAttributes(lockFile, BasicFileAttributes.class).fileKey();
      } catch (NoSuchFileException e) {
        return false;
      }
      try {
        FileLock lock = ch.lock(0, Long.MAX_VALUE, true);
        // an eviction may have deleted the lock file while we waited: then our lock guards nothing
        Object after = Files.readAttributes(lockFile, BasicFileAttributes.class).fileKey();
        if (!Objects.equals(before, after)) {
          ch.close();
          return false;
        }
        HELD.put(d, new Held(ch, lock, 1));
        return true;
      } catch (NoSuchFileException e) {
        ch.close();
        return false;
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    }
  }

  /** Longest key file read (a key is a few hundred bytes). */
  private static final int MAX_KEY_BYTES = 1 << 16;

  /**
   * The text of a key file: a plain file (not a link, FIFO or device) of at most {@link
   * #MAX_KEY_BYTES}, or an IOException saying why not.
   */
  static String readKey(Path keyFile) throws IOException {
    if (!SegmentFile.plainFile(keyFile)) {
      throw new IOException(keyFile + ": not a regular file (a link, FIFO or device); not read");
    }
    try (java.io.InputStream in = Files.newInputStream(keyFile)) {
      byte[] b = in.readNBytes(MAX_KEY_BYTES + 1);
      if (b.length > MAX_KEY_BYTES) {
        throw new IOException(keyFile + ": larger than a key file can be");
      }
      return new String(b, StandardCharsets.UTF_8);
    }
  }

  private static void writeKeyFile(Path dir, String key) throws IOException {
    Path keyFile = dir.resolve(KEY_FILE);
    if (Files.exists(keyFile, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      String existing = readKey(keyFile);
      if (!existing.equals(key)) {
        throw new GraftException(
            "feature cache directory "
                + dir
                + " holds a different key (hash collision?): "
                + existing);
      }
      return;
    }
    Path tmp =
        dir.resolve(
            "."
                + KEY_FILE
                + "-"
                + ProcessHandle.current().pid()
                + "-"
                + java.util.UUID.randomUUID()
                + ".tmp");
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
   * Deletes the temporary files of writers that are gone: the process id in the name is not alive,
   * or the file is older than any write takes. A live writer's file is never touched.
   */
  static void cleanTemps(Path dir) {
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
      for (Path p : ds) {
        long pid = SegmentFile.writerPid(p.getFileName().toString());
        if (pid == self) {
          continue;
        }
        boolean writerAlive =
            pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        try {
          Instant modified = Files.getLastModifiedTime(p).toInstant();
          boolean old = modified.isBefore(Instant.now().minus(STALE_TEMP));
          if ((pid > 0 && !writerAlive) || old) {
            Files.deleteIfExists(p);
            log.debug("deleted temporary file {} of a finished writer (pid {})", p, pid);
          }
        } catch (NoSuchFileException e) {
          // renamed or deleted by its writer meanwhile
        }
      }
    } catch (IOException e) {
      log.debug("cannot clean temporary files in {}: {}", dir, e.toString());
    }
  }
}
