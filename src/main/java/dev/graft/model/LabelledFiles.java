package dev.graft.model;

import dev.graft.data.ImageDataset;
import dev.graft.data.Sample;
import dev.graft.error.GraftException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A labelled dataset's files with each one's class as the model numbers it: what evaluation needs.
 * Classes are matched by name, so a test folder may hold a subset of the model's classes in any
 * order.
 *
 * @param files the images, in the dataset's order
 * @param actual for each file, its class's index in the model's labels
 */
public record LabelledFiles(List<Path> files, int[] actual) {

  /** Copies the list. */
  public LabelledFiles {
    files = List.copyOf(files);
  }

  /**
   * These files restricted to {@code kept}, which lists some of them in the same order (the files
   * that could be read), each with its class.
   *
   * @throws IllegalArgumentException when {@code kept} is not such a list
   */
  public LabelledFiles only(List<Path> kept) {
    int[] a = new int[kept.size()];
    int from = 0;
    for (int k = 0; k < kept.size(); k++) {
      while (from < files.size() && !files.get(from).equals(kept.get(k))) {
        from++;
      }
      if (from == files.size()) {
        throw new IllegalArgumentException(kept.get(k) + " is not among the files, in order");
      }
      a[k] = actual[from++];
    }
    return new LabelledFiles(kept, a);
  }

  /**
   * Matches {@code data}'s classes to {@code modelLabels} by name.
   *
   * @throws GraftException naming a class of the dataset that the model does not know
   */
  public static LabelledFiles of(ImageDataset data, List<String> modelLabels) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < modelLabels.size(); i++) {
      index.put(modelLabels.get(i), i);
    }
    int[] map = new int[data.numClasses()];
    for (int c = 0; c < data.numClasses(); c++) {
      Integer i = index.get(data.labels().get(c));
      if (i == null) {
        throw new GraftException(
            "class '"
                + data.labels().get(c)
                + "' is not one the model knows; the model's labels are "
                + modelLabels);
      }
      map[c] = i;
    }
    List<Path> files = new ArrayList<>(data.size());
    int[] actual = new int[data.size()];
    for (Sample s : data.samples()) {
      actual[files.size()] = map[s.label()];
      files.add(s.path());
    }
    return new LabelledFiles(files, actual);
  }
}
