package dev.graft.data;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * A dataset listed in a CSV file of {@code path,label} rows, for images that are not sorted into
 * class folders (a Kaggle-style {@code train.csv}, a database export).
 *
 * <pre>
 * path,label
 * images/0001.jpg,cat
 * images/0002.jpg,dog
 * "images/with, comma.jpg",dog
 * </pre>
 *
 * <pre>{@code
 * ImageDataset data = ImageList.fromCsv(Path.of("train.csv"), null);   // paths relative to the CSV
 * }</pre>
 *
 * <p>The header row is optional (recognised by a first column named path, file, filename, image,
 * image_path or filepath); when present, its {@code path} and {@code label} (or class, category,
 * target) columns are used wherever they are, otherwise the first two columns. Fields may be quoted
 * with double quotes; the separator is a comma, or a tab or semicolon when the first line has no
 * comma; blank lines and lines starting with {@code #} are ignored. Labels are sorted by name.
 * Missing and unreadable files are handled as {@link ScanOptions} says, a malformed row is a {@link
 * GraftException} naming the file and line.
 */
public final class ImageList {

  private static final Set<String> PATH_HEADERS =
      Set.of("path", "file", "filename", "file_name", "image", "image_path", "filepath", "img");
  private static final Set<String> LABEL_HEADERS =
      Set.of("label", "class", "category", "target", "y", "class_name", "label_name");

  private ImageList() {}

  /**
   * Reads a CSV with {@link ScanOptions#defaults()}; see {@link #fromCsv(Path, Path, ScanOptions)}.
   */
  public static ImageDataset fromCsv(Path csv, Path baseDir) throws IOException {
    return fromCsv(csv, baseDir, ScanOptions.defaults());
  }

  /** Reads a CSV whose relative paths are relative to the CSV's own folder. */
  public static ImageDataset fromCsv(Path csv) throws IOException {
    return fromCsv(csv, null, ScanOptions.defaults());
  }

  /**
   * Reads a CSV of {@code path,label} rows.
   *
   * @param csv the CSV file (UTF-8)
   * @param baseDir folder that relative paths are resolved against; null for the CSV's folder
   * @throws GraftException if the CSV is missing or malformed, lists fewer than two classes, or
   *     (strict mode) names a bad file
   */
  public static ImageDataset fromCsv(Path csv, Path baseDir, ScanOptions options)
      throws IOException {
    if (!Files.isRegularFile(csv)) {
      throw new GraftException("CSV file not found: " + csv.toAbsolutePath());
    }
    Path base = baseDir != null ? baseDir : csv.toAbsolutePath().getParent();
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    char sep = ',';
    int pathCol = 0;
    int labelCol = 1;
    List<String[]> rows = new ArrayList<>();
    List<Integer> lineNumbers = new ArrayList<>();
    boolean first = true;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (i == 0 && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
      if (line.isBlank() || line.stripLeading().startsWith("#")) {
        continue;
      }
      if (first) {
        if (line.indexOf(',') < 0) {
          sep = line.indexOf('\t') >= 0 ? '\t' : line.indexOf(';') >= 0 ? ';' : ',';
        }
      }
      List<String> fields = parse(line, sep, csv, i + 1);
      if (first) {
        first = false;
        int p = indexOf(fields, PATH_HEADERS);
        if (p >= 0) {
          pathCol = p;
          int l = indexOf(fields, LABEL_HEADERS);
          labelCol = l >= 0 ? l : (p == 0 ? 1 : 0);
          continue;
        }
      }
      if (fields.size() <= Math.max(pathCol, labelCol)) {
        throw new GraftException(
            csv + " line " + (i + 1) + ": expected path" + sep + "label, got '" + line + "'");
      }
      String path = fields.get(pathCol).strip();
      String label = fields.get(labelCol).strip();
      if (path.isEmpty() || label.isEmpty()) {
        throw new GraftException(
            csv + " line " + (i + 1) + ": empty path or label in '" + line + "'");
      }
      rows.add(new String[] {path, label});
      lineNumbers.add(i + 1);
    }
    if (rows.isEmpty()) {
      throw new GraftException("no rows in " + csv.toAbsolutePath());
    }
    TreeSet<String> labelSet = new TreeSet<>();
    for (String[] r : rows) {
      labelSet.add(r[1]);
    }
    List<String> labels = new ArrayList<>(labelSet);
    if (labels.size() < 2) {
      throw new GraftException(
          "only one label ("
              + labels.get(0)
              + ") in "
              + csv.toAbsolutePath()
              + ": a classifier needs at least two classes");
    }
    List<Sample> candidates = new ArrayList<>(rows.size());
    for (String[] r : rows) {
      Path p = base.resolve(r[0]);
      candidates.add(new Sample(p.normalize(), labels.indexOf(r[1])));
    }
    Scan scan = new Scan(options);
    List<Sample> ok = scan.check(candidates);
    int[] counts = new int[labels.size()];
    for (Sample s : ok) {
      counts[s.label()]++;
    }
    for (int c = 0; c < counts.length; c++) {
      if (counts[c] == 0) {
        throw new GraftException(
            "label '" + labels.get(c) + "' in " + csv.toAbsolutePath() + " has no readable images");
      }
    }
    ImageDataset data =
        new ImageDataset(labels, ok, scan.skipped(), csv.toAbsolutePath().normalize().toString());
    scan.summarize(data);
    return data;
  }

  private static int indexOf(List<String> fields, Set<String> names) {
    for (int i = 0; i < fields.size(); i++) {
      if (names.contains(fields.get(i).strip().toLowerCase(Locale.ROOT))) {
        return i;
      }
    }
    return -1;
  }

  /** Splits one CSV line; double quotes group, {@code ""} inside quotes is a quote. */
  static List<String> parse(String line, char sep, Path csv, int lineNo) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (quoted) {
        if (ch == '"') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
            cur.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          cur.append(ch);
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == sep) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(ch);
      }
    }
    if (quoted) {
      throw new GraftException(csv + " line " + lineNo + ": unterminated quote in '" + line + "'");
    }
    out.add(cur.toString());
    return out;
  }
}
