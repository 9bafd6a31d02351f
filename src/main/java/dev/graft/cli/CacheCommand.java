package dev.graft.cli;

import dev.graft.error.GraftException;
import dev.graft.features.CacheRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code graft cache [--list] [--older-than DURATION] [--max-size SIZE] [--all] [--cache DIR]}:
 * shows what the feature cache ({@link CacheRoot}) holds, per key (base, cut, size): entries, bytes
 * and last use; and prunes it. A cache a live process has open is never removed.
 */
@Command(
    name = "cache",
    mixinStandardHelpOptions = true,
    description =
        "List the feature cache (per base and key: entries, size, last use) or prune it."
            + " Caches in use by a running process are left alone.",
    footer = {
      "",
      "Location: --cache DIR, else -Dgraft.cache.dir, $GRAFT_CACHE_DIR, $XDG_CACHE_HOME/graft,"
          + " ~/.cache/graft. Size cap: -Dgraft.cache.max-size or $GRAFT_CACHE_MAX_SIZE"
          + " (default 10G), least recently used evicted first.",
      "Example: graft cache --older-than 30d"
    })
final class CacheCommand extends GraftCommand {
  @Option(
      names = "--cache",
      paramLabel = "DIR",
      description = "Cache directory (default: the standard location above).")
  Path cache;

  @Option(names = "--list", description = "List what the cache holds (the default).")
  boolean list;

  @Option(
      names = "--older-than",
      paramLabel = "DURATION",
      description = "Remove caches not used for this long: 30d, 12h, 45m, 90s.")
  String olderThan;

  @Option(
      names = "--max-size",
      paramLabel = "SIZE",
      description = "Remove least recently used caches until the rest fits: 500M, 20G.")
  String maxSize;

  @Option(names = "--all", description = "Remove every cache not in use.")
  boolean all;

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*([smhdw])");
  private static final DateTimeFormatter WHEN =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);

  @Override
  int run() throws IOException {
    if (cache != null && Files.exists(cache) && !Files.isDirectory(cache)) {
      throw new BadInputException("--cache: not a directory: " + cache);
    }
    Duration age = olderThan == null ? null : duration(olderThan);
    Long max = null;
    if (maxSize != null) {
      try {
        max = CacheRoot.parseSize(maxSize, "--max-size");
      } catch (GraftException e) {
        throw new BadInputException(e.getMessage());
      }
    }
    CacheRoot root = cache != null ? CacheRoot.at(cache) : CacheRoot.standard();
    if (age != null || max != null || all) {
      CacheRoot.Pruned p = root.prune(age, max, all);
      out()
          .printf(
              Locale.ROOT,
              "removed %d cache(s), %s freed%s%n",
              p.directories(),
              human(p.bytes()),
              p.skippedInUse() > 0 ? "; " + p.skippedInUse() + " in use left alone" : "");
    }
    if (list || (age == null && max == null && !all)) {
      printList(root);
    }
    out().flush();
    return ExitCodes.OK;
  }

  private void printList(CacheRoot root) throws IOException {
    List<CacheRoot.Entry> entries = root.list();
    out()
        .printf(
            Locale.ROOT, "feature cache %s (cap %s)%n", root.directory(), human(root.maxBytes()));
    if (entries.isEmpty()) {
      out().println("(empty)");
      return;
    }
    out()
        .printf(
            Locale.ROOT,
            "%-16s %9s %10s  %-16s  %s%n",
            "key",
            "entries",
            "size",
            "last use",
            "base");
    long total = 0;
    for (CacheRoot.Entry e : entries) {
      total += e.bytes();
      out()
          .printf(
              Locale.ROOT,
              "%-16s %9d %10s  %-16s  %s%s%n",
              e.directory().getFileName().toString().substring(0, 12),
              e.entries(),
              human(e.bytes()),
              WHEN.format(e.lastUsed()),
              e.description(),
              e.inUse() ? " (in use)" : "");
    }
    out().printf(Locale.ROOT, "%d key(s), %s in all%n", entries.size(), human(total));
  }

  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new BadInputException(
          "--older-than: not a duration (like 30d, 12h, 45m or 90s), got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> Duration.ofDays(7 * n);
    };
  }

  private static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
