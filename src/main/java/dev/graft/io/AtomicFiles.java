package dev.graft.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a file so that a reader, or a process killed at any moment ({@code kill -9} included),
 * sees either the old file or the new one, and no temporary file is left behind for long.
 *
 * <p>The bytes go to {@code .<name>.tmp-<pid>-<random>} in the target's directory, are forced to
 * disk, and the temporary file is moved over the target atomically (then the directory is forced,
 * where the platform allows). A temporary file of a live process is removed by a shutdown hook when
 * that process is stopped by a signal; one left by a process killed outright is removed by the next
 * write of the same target, but only when no live process has that pid: a file another process is
 * still writing is never touched.
 *
 * <pre>{@code
 * AtomicFiles.write(Path.of("model.graft"), channel -> channel.write(bytes));
 * }</pre>
 */
public final class AtomicFiles {
  private static final Logger log = LoggerFactory.getLogger(AtomicFiles.class);

  /** Temporary files this process is writing, removed by the shutdown hook if still there. */
  private static final Set<Path> IN_PROGRESS = ConcurrentHashMap.newKeySet();

  static {
    Thread hook =
        new Thread(
            () -> {
              for (Path p : IN_PROGRESS) {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException | RuntimeException e) {
                  // best effort at exit: the next write of the target removes it
                }
              }
            },
            "graft-temp-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  private AtomicFiles() {}

  /** What writes the content, into a channel opened on the temporary file. */
  @FunctionalInterface
  public interface Writer {
    /** Writes the whole content to {@code out}; need not force or close it. */
    void write(FileChannel out) throws IOException;
  }

  /**
   * Writes {@code target} atomically. Creates missing parent directories; removes stale temporary
   * files of {@code target} left by dead processes first.
   *
   * @throws IOException if the file cannot be written (the target is then left untouched)
   */
  public static void write(Path target, Writer writer) throws IOException {
    write(target, writer, null);
  }

  /**
   * As {@link #write(Path, Writer)}, running {@code beforeMove} after the temporary file is
   * complete and on disk and before it replaces the target (a seam for tests that interrupt a
   * write).
   */
  public static void write(Path target, Writer writer, Runnable beforeMove) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    removeStaleTemporaries(abs);
    Path tmp = temporaryFor(abs);
    IN_PROGRESS.add(tmp);
    try {
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        writer.write(ch);
        ch.force(true);
      }
      if (beforeMove != null) {
        beforeMove.run();
      }
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      forceDirectory(dir);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } finally {
        IN_PROGRESS.remove(tmp);
      }
    }
  }

  /** A fresh temporary name for {@code target}: {@code .<name>.tmp-<pid>-<random>}. */
  static Path temporaryFor(Path target) {
    return target.resolveSibling(
        "."
            + target.getFileName()
            + ".tmp-"
            + ProcessHandle.current().pid()
            + "-"
            + UUID.randomUUID().toString().substring(0, 8));
  }

  /**
   * Removes the temporary files of {@code target} whose writing process is gone (older Graft
   * versions named them {@code .<name>.tmp-<uuid>}, without a pid: those are removed once they are
   * an hour old).
   *
   * @return how many were removed
   */
  public static int removeStaleTemporaries(Path target) {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      return 0;
    }
    Pattern p =
        Pattern.compile(
            Pattern.quote("." + abs.getFileName() + ".tmp-")
                + "(?:(\\d+)-[0-9a-f]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
    int removed = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path f : ds) {
        Matcher m = p.matcher(f.getFileName().toString());
        if (!m.matches() || IN_PROGRESS.contains(f)) {
          continue;
        }
        boolean stale;
        if (m.group(1) != null) {
          long pid = Long.parseLong(m.group(1));
          stale = ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
        } else {
          stale = System.currentTimeMillis() - Files.getLastModifiedTime(f).toMillis() > 3_600_000L;
        }
        if (stale && Files.deleteIfExists(f)) {
          removed++;
          log.info("removed {}, left by an interrupted write", f);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("could not look for stale temporary files of {}: {}", abs, e.toString());
    }
    return removed;
  }

  private static void forceDirectory(Path dir) {
    if (dir == null) {
      return;
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      // not every platform can open or force a directory; the move itself is atomic
    }
  }

  /**
   * Deletes a directory and everything in it. A directory another process put a file into meanwhile
   * is kept (with that file).
   *
   * @param dir the directory
   * @throws IOException a file cannot be deleted
   */
  public static void deleteTree(Path dir) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
            try {
              Files.deleteIfExists(d);
            } catch (DirectoryNotEmptyException e) {
              // a process created a file meanwhile: it keeps the directory
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
