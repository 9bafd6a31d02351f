package dev.graft.features;

import dev.graft.error.GraftException;
import dev.graft.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The managed, per-user feature cache: where it lives, what it holds, and how big it may grow.
 *
 * <p>Location, first that is set: system property {@value #DIR_PROPERTY}, environment variable
 * {@value #DIR_ENV}, {@code $XDG_CACHE_HOME/graft}, {@code ~/.cache/graft} (the CLI's {@code
 * --cache DIR} comes before all of them). Layout: {@code <root>/features-v<format>/<key digest>/},
 * one directory per {@link FeatureKey} holding its segment files; a Graft with another file format
 * uses another {@code features-v*} directory and never reads, evicts or deletes this one's.
 *
 * <p>Size cap, first that is set: system property {@value #MAX_PROPERTY}, environment variable
 * {@value #MAX_ENV} (sizes like {@code 500M} or {@code 20G}), default {@link #DEFAULT_MAX_BYTES}.
 * When a cache is closed and the root is over its cap, whole key directories are evicted, least
 * recently used first; a directory some live process has open is never touched (file locks).
 *
 * <pre>{@code
 * CacheRoot root = CacheRoot.standard();
 * try (FeatureCache cache = root.open(key)) { ... }
 * root.prune(Duration.ofDays(30), null, false);
 * }</pre>
 */
public final class CacheRoot {
  private static final Logger log = LoggerFactory.getLogger(CacheRoot.class);

  /** System property naming the cache directory. */
  public static final String DIR_PROPERTY = "graft.cache.dir";

  /** Environment variable naming the cache directory. */
  public static final String DIR_ENV = "GRAFT_CACHE_DIR";

  /** System property giving the size cap ({@code 20G}, {@code 500M}, bytes). */
  public static final String MAX_PROPERTY = "graft.cache.max-size";

  /** Environment variable giving the size cap. */
  public static final String MAX_ENV = "GRAFT_CACHE_MAX_SIZE";

  /** The size cap when none is set: 10 GiB. */
  public static final long DEFAULT_MAX_BYTES = 10L << 30;

  /** The sub-directory of this file format. */
  static final String LAYOUT = "features-v" + SegmentFile.VERSION;

  private final Path root;
  private final long maxBytes;

  private CacheRoot(Path root, long maxBytes) {
    this.root = root.toAbsolutePath().normalize();
    this.maxBytes = maxBytes;
  }

  /** The cache at the standard location with the standard cap (see the class comment). */
  public static CacheRoot standard() {
    return new CacheRoot(standardLocation(System.getenv()), standardMaxBytes(System.getenv()));
  }

  /** The cache under {@code dir}, with the standard cap. */
  public static CacheRoot at(Path dir) {
    return new CacheRoot(dir, standardMaxBytes(System.getenv()));
  }

  /** This cache with another size cap, in bytes (at least 0). */
  public CacheRoot withMaxBytes(long bytes) {
    if (bytes < 0) {
      throw new GraftException("cache size cap must not be negative, got " + bytes);
    }
    return new CacheRoot(root, bytes);
  }

  /** The directory given by the settings in {@code env} and the system properties. */
  static Path standardLocation(Map<String, String> env) {
    String p = System.getProperty(DIR_PROPERTY);
    if (p != null && !p.isBlank()) {
      return Path.of(p);
    }
    String e = env.get(DIR_ENV);
    if (e != null && !e.isBlank()) {
      return Path.of(e);
    }
    String xdg = env.get("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "graft");
    }
    return Path.of(System.getProperty("user.home"), ".cache", "graft");
  }

  static long standardMaxBytes(Map<String, String> env) {
    String p = System.getProperty(MAX_PROPERTY);
    if (p != null && !p.isBlank()) {
      return parseSize(p, "system property " + MAX_PROPERTY);
    }
    String e = env.get(MAX_ENV);
    if (e != null && !e.isBlank()) {
      return parseSize(e, "environment variable " + MAX_ENV);
    }
    return DEFAULT_MAX_BYTES;
  }

  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]?)(?:I?B)?", Pattern.CASE_INSENSITIVE);

  /**
   * Parses a size: bytes, or a number with {@code K}, {@code M}, {@code G} or {@code T} (binary
   * multiples; {@code KB}, {@code MiB} also read).
   *
   * @param text the size
   * @param what names the setting in the error message
   * @throws GraftException echoing the text when it is not a size
   */
  public static long parseSize(String text, String what) {
    Matcher m = SIZE.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new GraftException(what + ": not a size (like 500M or 20G), got '" + text + "'");
    }
    int shift =
        switch (m.group(2).toUpperCase(Locale.ROOT)) {
          case "K" -> 10;
          case "M" -> 20;
          case "G" -> 30;
          case "T" -> 40;
          default -> 0;
        };
    return (long) (Double.parseDouble(m.group(1)) * (1L << shift));
  }

  /** The root directory. */
  public Path directory() {
    return root;
  }

  /** The size cap in bytes. */
  public long maxBytes() {
    return maxBytes;
  }

  /**
   * Opens (creating if needed) the cache of {@code key}.
   *
   * @throws IOException if the directory cannot be created or read
   */
  public FeatureCache open(FeatureKey key) throws IOException {
    return open(key.canonical());
  }

  /** Opens the cache of an arbitrary key text; see {@link #open(FeatureKey)}. */
  public FeatureCache open(String key) throws IOException {
    if (key == null || key.isEmpty()) {
      throw new GraftException("feature cache key may not be empty, got '" + key + "'");
    }
    Path dir = root.resolve(LAYOUT).resolve(ContentHash.ofText(key).substring(0, 32));
    return FeatureCache.open(this, CacheDirectory.open(dir, key), key);
  }

  /**
   * What one key directory holds.
   *
   * @param directory the directory
   * @param description the key's first components ({@code base=…, cut=…}), for people
   * @param entries images cached
   * @param bytes bytes on disk
   * @param lastUsed when a process last opened it
   * @param inUse whether a live process has it open now
   */
  public record Entry(
      Path directory,
      String description,
      long entries,
      long bytes,
      Instant lastUsed,
      boolean inUse) {}

  /**
   * Every key directory of this file format, most recently used first.
   *
   * @throws IOException if the root cannot be listed
   */
  public List<Entry> list() throws IOException {
    Path layout = root.resolve(LAYOUT);
    List<Entry> out = new ArrayList<>();
    if (!Files.isDirectory(layout)) {
      return out;
    }
    // Key folders and their files are the cache's own: a symbolic link or a FIFO in their place
    // is never followed or opened.
    try (DirectoryStream<Path> ds =
        Files.newDirectoryStream(
            layout, p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
      for (Path d : ds) {
        long bytes = 0;
        long entries = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
          for (Path f : files) {
            if (!SegmentFile.plainFile(f)) {
              continue;
            }
            try {
              bytes += Files.size(f);
            } catch (NoSuchFileException e) {
              continue;
            }
            if (f.getFileName().toString().endsWith(SegmentFile.SUFFIX)) {
              entries += SegmentFile.declaredCount(f);
            }
          }
        } catch (NoSuchFileException e) {
          continue;
        }
        out.add(
            new Entry(
                d,
                describe(d),
                entries,
                bytes,
                CacheDirectory.lastUsed(d),
                CacheDirectory.inUse(d)));
      }
    }
    out.sort(Comparator.comparing(Entry::lastUsed).reversed());
    return out;
  }

  /**
   * What {@link #prune} removed.
   *
   * @param directories key directories deleted
   * @param bytes bytes freed
   * @param skippedInUse directories left alone because a live process has them open
   */
  public record Pruned(int directories, long bytes, int skippedInUse) {}

  /**
   * Deletes key directories: all of them ({@code all}), those not used for {@code olderThan}, then
   * the least recently used until the rest fits {@code maxBytes}. Directories a live process has
   * open are skipped.
   *
   * @param olderThan delete what was last used longer ago than this; may be null
   * @param maxBytes keep at most this many bytes; may be null
   * @param all delete everything not in use
   * @throws IOException if the cache cannot be listed or a file cannot be deleted
   */
  public Pruned prune(Duration olderThan, Long maxBytes, boolean all) throws IOException {
    List<Entry> entries = list(); // most recent first
    Instant cutoff = olderThan == null ? null : Instant.now().minus(olderThan);
    long total = entries.stream().mapToLong(Entry::bytes).sum();
    int deleted = 0;
    int skipped = 0;
    long freed = 0;
    for (int i = entries.size() - 1; i >= 0; i--) {
      Entry e = entries.get(i);
      boolean go =
          all
              || (cutoff != null && e.lastUsed().isBefore(cutoff))
              || (maxBytes != null && total > maxBytes);
      if (!go) {
        continue;
      }
      if (CacheDirectory.ifUnused(e.directory(), () -> AtomicFiles.deleteTree(e.directory()))) {
        deleted++;
        freed += e.bytes();
        total -= e.bytes();
        log.info(
            "removed feature cache {} ({}, {} entries, {} bytes)",
            e.directory().getFileName(),
            e.description(),
            e.entries(),
            e.bytes());
      } else {
        skipped++;
      }
    }
    return new Pruned(deleted, freed, skipped);
  }

  /** Evicts least recently used directories until the cache fits its cap. */
  void enforceCap() {
    try {
      long total = 0;
      for (Entry e : list()) {
        total += e.bytes();
      }
      if (total > maxBytes) {
        Pruned p = prune(null, maxBytes, false);
        log.info(
            "feature cache {} was over its cap of {} bytes: evicted {} directories ({} bytes)",
            root,
            maxBytes,
            p.directories(),
            p.bytes());
      }
    } catch (IOException e) {
      log.warn("cannot enforce the size cap of feature cache {}: {}", root, e.toString());
    }
  }

  private static String describe(Path dir) {
    try {
      String key = CacheDirectory.readKey(dir.resolve(CacheDirectory.KEY_FILE));
      List<String> parts = new ArrayList<>();
      for (String line : key.split("[\\n|]")) {
        if (line.startsWith("base=") || line.startsWith("cut=") || line.startsWith("inputSize=")) {
          parts.add(line);
        }
      }
      return parts.isEmpty()
          ? Optional.of(key.strip()).map(k -> k.length() > 60 ? k.substring(0, 60) + "…" : k).get()
          : String.join(", ", parts);
    } catch (IOException e) {
      return "(no key file)";
    }
  }
}
