package dev.graft.model;

import dev.graft.data.SkippedFile;
import dev.graft.features.DecodedBatches;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Top-k predictions for image files, decoded one batch ahead of the forward pass ({@link
 * DecodedBatches}), with one policy for files that cannot be read: skipped and listed, or the first
 * one fails the call. What {@code graft predict} runs.
 *
 * <pre>{@code
 * try (Predictor p = model.predictor()) {
 *   FilePredictions r = FilePredictions.of(p, files, 3, false, true, null);
 *   r.skipped().forEach(s -> log.warn("skipped {}", s));
 * }
 * }</pre>
 *
 * @param files the files predicted, in the order given (skipped ones left out)
 * @param predictions each file's top-k predictions, most probable first
 * @param skipped the files left out, with why, in the order given
 */
public record FilePredictions(
    List<Path> files, List<List<Prediction>> predictions, List<SkippedFile> skipped) {

  /** Copies. */
  public FilePredictions {
    files = List.copyOf(files);
    predictions = List.copyOf(predictions);
    skipped = List.copyOf(skipped);
  }

  /**
   * Predicts {@code files} in the predictor's batches.
   *
   * @param topK predictions per file
   * @param tta average over {@link TestTimeAugmentation#standard()}'s views
   * @param skipUnreadable skip a file that cannot be read or decoded instead of failing
   * @param progress called with the number of files handled after each batch; may be null
   * @throws IOException "cannot read image FILE: why" for the first unreadable file, unless skipped
   */
  public static FilePredictions of(
      Predictor predictor,
      List<Path> files,
      int topK,
      boolean tta,
      boolean skipUnreadable,
      IntConsumer progress)
      throws IOException {
    List<Path> done = new ArrayList<>(files.size());
    List<List<Prediction>> results = new ArrayList<>(files.size());
    List<SkippedFile> skipped = new ArrayList<>();
    try (DecodedBatches batches =
        DecodedBatches.images(files, Predictor.DEFAULT_BATCH, skipUnreadable)) {
      for (DecodedBatches.Decoded b = batches.nextImages(); b != null; b = batches.nextImages()) {
        skipped.addAll(b.skipped());
        if (!b.images().isEmpty()) {
          done.addAll(b.files());
          results.addAll(
              tta
                  ? TestTimeAugmentation.standard().predictImages(predictor, b.images(), topK)
                  : predictor.predictImages(b.images(), topK));
        }
        if (progress != null) {
          progress.accept(batches.delivered());
        }
      }
    }
    return new FilePredictions(done, results, skipped);
  }
}
