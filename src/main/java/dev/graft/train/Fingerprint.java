package dev.graft.train;

import dev.graft.data.ImageDataset;
import dev.graft.data.Sample;
import dev.graft.io.Sha256;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a training run was started with: its settings (as strings, in a stable order) and its data,
 * one line per image ({@code label<TAB>sha256<TAB>path}), for the training and the validation set.
 * A checkpoint records it, and a run resumes only from a checkpoint with an equal one: Keras's
 * {@code BackupAndRestore} warns that a checkpoint "can become invalid" when settings change; Graft
 * refuses and says what changed.
 *
 * @param settings every setting the result depends on, by name
 * @param training one line per training image
 * @param validation one line per validation image (empty without validation data)
 */
public record Fingerprint(
    Map<String, String> settings, List<String> training, List<String> validation) {

  /** Copies. */
  public Fingerprint {
    settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    training = List.copyOf(training);
    validation = List.copyOf(validation);
  }

  /**
   * The fingerprint of {@code settings} and two datasets, reading every image to hash its bytes.
   *
   * @param validation may be null
   * @throws IOException if an image cannot be read
   */
  public static Fingerprint of(
      Map<String, String> settings, ImageDataset training, ImageDataset validation)
      throws IOException {
    return new Fingerprint(settings, lines(training), lines(validation));
  }

  private static List<String> lines(ImageDataset data) throws IOException {
    if (data == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>(data.size());
    for (Sample s : data.samples()) {
      out.add(data.labels().get(s.label()) + "\t" + Sha256.of(s.path()) + "\t" + s.path());
    }
    return out;
  }

  /**
   * What differs between a checkpoint's fingerprint and this run's, in words (settings first, then
   * the first files that differ), or empty when they are equal.
   */
  public Optional<String> differenceFrom(Fingerprint saved) {
    List<String> diffs = new ArrayList<>();
    Set<String> keys = new LinkedHashSet<>(saved.settings.keySet());
    keys.addAll(settings.keySet());
    for (String k : keys) {
      String was = saved.settings.get(k);
      String now = settings.get(k);
      if (!Objects.equals(was, now)) {
        diffs.add(k + " was " + shown(was) + ", now " + shown(now));
      }
    }
    files("training data", saved.training, training).ifPresent(diffs::add);
    files("validation data", saved.validation, validation).ifPresent(diffs::add);
    return diffs.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", diffs));
  }

  private static String shown(String v) {
    if (v == null) {
      return "(not set)";
    }
    return "'" + (v.length() > 80 ? v.substring(0, 80) + "..." : v) + "'";
  }

  private static Optional<String> files(String what, List<String> was, List<String> now) {
    if (was.equals(now)) {
      return Optional.empty();
    }
    Map<String, String> before = byPath(was);
    Map<String, String> after = byPath(now);
    List<String> changes = new ArrayList<>();
    int count = 0;
    for (var e : after.entrySet()) {
      String old = before.get(e.getKey());
      String change =
          old == null
              ? "added " + e.getKey()
              : old.equals(e.getValue())
                  ? null
                  : old.split("\t")[0].equals(e.getValue().split("\t")[0])
                      ? "content of " + e.getKey() + " changed"
                      : "label of " + e.getKey() + " changed";
      if (change != null) {
        count++;
        if (changes.size() < 3) {
          changes.add(change);
        }
      }
    }
    for (String p : before.keySet()) {
      if (!after.containsKey(p)) {
        count++;
        if (changes.size() < 3) {
          changes.add("removed " + p);
        }
      }
    }
    if (count == 0) {
      return Optional.of(what + ": the images are the same but in another order");
    }
    return Optional.of(
        what
            + ": "
            + count
            + " file(s) differ ("
            + String.join(", ", changes)
            + (count > changes.size() ? ", ..." : "")
            + ")");
  }

  /** path → "label\tsha256". */
  private static Map<String, String> byPath(List<String> lines) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String l : lines) {
      int a = l.indexOf('\t');
      int b = a < 0 ? -1 : l.indexOf('\t', a + 1);
      if (b < 0) {
        m.put(l, "");
      } else {
        m.put(l.substring(b + 1), l.substring(0, b));
      }
    }
    return m;
  }
}
