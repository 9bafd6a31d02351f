package dev.graft.data;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dataset laid out as one folder per class, the layout Keras's {@code
 * image_dataset_from_directory} and torchvision's {@code ImageFolder} read:
 *
 * <pre>
 * flowers/
 *   daisy/   img001.jpg  img002.png  ...
 *   rose/    2019/a.jpg  2020/b.jpg  ...   (nested folders belong to their class)
 *   tulip/   ...
 * </pre>
 *
 * <pre>{@code
 * ImageDataset data = ImageFolder.of(Path.of("flowers"));
 * ImageDataset checked = ImageFolder.of(Path.of("flowers"), ScanOptions.defaults().withVerify(true));
 * }</pre>
 *
 * <p>Rules: a label is its class folder's name; labels are sorted by name (so indices are stable
 * across machines) and files by their path below the class folder. Hidden files and folders (name
 * starting with a dot), {@code __MACOSX}, {@code Thumbs.db} and {@code desktop.ini} are ignored
 * silently; other files without an image extension, and files with one that are empty or not an
 * image, are skipped with one warning each (see {@link ScanOptions}); symbolic links are followed.
 * A missing root, a root without class folders, an empty class folder or a single class is a {@link
 * GraftException} naming the path.
 */
public final class ImageFolder {

  private static final Logger log = LoggerFactory.getLogger(ImageFolder.class);

  private static final Set<String> JUNK = Set.of("thumbs.db", "desktop.ini", "__macosx");

  private ImageFolder() {}

  /** Scans {@code root} with {@link ScanOptions#defaults()}. */
  public static ImageDataset of(Path root) throws IOException {
    return of(root, ScanOptions.defaults());
  }

  /**
   * Scans {@code root}, one subfolder per class.
   *
   * @throws GraftException if the folder is missing, has no class folders, has an empty class
   *     folder or only one class, or (strict mode) holds a bad file
   * @throws IOException if listing the folder fails
   */
  public static ImageDataset of(Path root, ScanOptions options) throws IOException {
    return scan(root, null, options);
  }

  /**
   * Scans {@code root} against a fixed label list (a trained model's labels): each class folder
   * must be named after one of them, and label indices follow {@code labels}, not the folder order.
   * Classes may be missing, and a single class is allowed (evaluating one class).
   *
   * @throws GraftException naming a folder whose name is not one of {@code labels}
   */
  public static ImageDataset of(Path root, List<String> labels, ScanOptions options)
      throws IOException {
    return scan(root, List.copyOf(labels), options);
  }

  private static ImageDataset scan(Path root, List<String> fixedLabels, ScanOptions options)
      throws IOException {
    if (!Files.exists(root)) {
      throw new GraftException("image folder not found: " + root.toAbsolutePath());
    }
    if (!Files.isDirectory(root)) {
      throw new GraftException(
          "not a folder: "
              + root.toAbsolutePath()
              + " (expected a folder with one subfolder per class)");
    }
    Scan scan = new Scan(options);
    Walk walk = new Walk();
    List<Path> classDirs = new ArrayList<>();
    try (Stream<Path> children = Files.list(root)) {
      for (Path p : children.sorted().toList()) {
        String name = p.getFileName().toString();
        if (ignored(name)) {
          continue;
        }
        if (Files.isDirectory(p)) {
          if (dev.graft.io.SafeText.hasControl(name)) {
            throw new GraftException(
                "class folder '"
                    + dev.graft.io.SafeText.escape(name)
                    + "' in "
                    + root.toAbsolutePath()
                    + ": its name holds control characters, which no label may; rename it");
          }
          classDirs.add(p);
        } else if (ImageDecoder.hasImageExtension(p)) {
          scan.bad(
              p, "image outside any class folder (expected " + root + "/<class>/" + name + ")");
        } else {
          log.debug("Ignoring {}: not in a class folder", p);
        }
      }
    }
    if (classDirs.isEmpty()) {
      throw new GraftException(
          "no class folders in "
              + root.toAbsolutePath()
              + ": expected one subfolder per class, e.g. "
              + root
              + "/cats/*.jpg");
    }
    // Sort by the name itself (not Path order) so that the order matches Keras and torchvision.
    classDirs.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    List<String> labels = new ArrayList<>();
    if (fixedLabels != null) {
      labels.addAll(fixedLabels);
      for (Path dir : classDirs) {
        if (!labels.contains(dir.getFileName().toString())) {
          throw new GraftException("folder " + dir + " is not one of the labels " + labels);
        }
      }
    } else {
      if (classDirs.size() == 1) {
        throw new GraftException(
            "only one class folder in "
                + root.toAbsolutePath()
                + " ("
                + classDirs.get(0).getFileName()
                + "): a classifier needs at least two classes");
      }
      for (Path dir : classDirs) {
        labels.add(dir.getFileName().toString());
      }
    }
    List<Sample> samples = new ArrayList<>();
    for (Path dir : classDirs) {
      int label = labels.indexOf(dir.getFileName().toString());
      List<Sample> candidates = new ArrayList<>();
      for (Path f : filesUnder(dir, scan, walk)) {
        candidates.add(new Sample(f, label));
      }
      if (candidates.isEmpty()) {
        throw new GraftException("class folder " + dir.toAbsolutePath() + " has no images");
      }
      List<Sample> ok = scan.check(candidates);
      if (ok.isEmpty()) {
        throw new GraftException(
            "class folder "
                + dir.toAbsolutePath()
                + " has no readable images ("
                + candidates.size()
                + " bad files skipped)");
      }
      samples.addAll(ok);
    }
    ImageDataset data =
        new ImageDataset(
            labels, samples, scan.skipped(), root.toAbsolutePath().normalize().toString());
    scan.summarize(data);
    return data;
  }

  static boolean ignored(String name) {
    return name.startsWith(".") || JUNK.contains(name.toLowerCase(Locale.ROOT));
  }

  /** Deepest folder below a class folder that is scanned. */
  static final int MAX_DEPTH = 64;

  /**
   * Most entries one scan visits: 10 million (system property {@code graft.limits.maxScanEntries}).
   */
  static final long MAX_ENTRIES = dev.graft.io.Limits.property("maxScanEntries", 10_000_000L);

  /**
   * What one scan has seen: each real directory is visited once, however many symbolic links lead
   * to it (24 levels of two links each would otherwise be 16 million visits), and the entries are
   * counted against {@link #MAX_ENTRIES}.
   */
  private static final class Walk {
    final java.util.Set<Object> directories = new java.util.HashSet<>();
    long entries;
  }

  /** Image files below {@code dir}, sorted by relative path; reports non-image files. */
  private static List<Path> filesUnder(Path dir, Scan scan, Walk walk) throws IOException {
    List<Path> files = new ArrayList<>();
    Files.walkFileTree(
        dir,
        EnumSet.of(FileVisitOption.FOLLOW_LINKS),
        MAX_DEPTH,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs)
              throws IOException {
            count(d);
            if (!d.equals(dir) && ignored(d.getFileName().toString())) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            Object key = attrs.fileKey() != null ? attrs.fileKey() : d.toRealPath();
            if (!walk.directories.add(key)) {
              log.warn(
                  "Skipping {}: a folder already scanned (reached again through a symbolic link)",
                  dev.graft.io.SafeText.escape(d.toString()));
              return FileVisitResult.SKIP_SUBTREE;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
            count(f);
            if (!ignored(f.getFileName().toString()) && attrs.isRegularFile()) {
              files.add(f);
            }
            return FileVisitResult.CONTINUE;
          }

          private void count(Path p) {
            if (++walk.entries > MAX_ENTRIES) {
              throw new GraftException(
                  "more than "
                      + MAX_ENTRIES
                      + " files and folders under "
                      + dir.getParent()
                      + " (graft.limits.maxScanEntries); stopped at "
                      + dev.graft.io.SafeText.escape(p.toString()));
            }
          }

          @Override
          public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
            if (e instanceof FileSystemLoopException) {
              log.warn("Skipping {}: symbolic link loop", f);
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }
        });
    files.sort((a, b) -> dir.relativize(a).toString().compareTo(dir.relativize(b).toString()));
    List<Path> images = new ArrayList<>(files.size());
    for (Path f : files) {
      if (ImageDecoder.hasImageExtension(f)) {
        images.add(f);
      } else {
        scan.bad(f, "not an image file (unknown extension)");
      }
    }
    return images;
  }
}
