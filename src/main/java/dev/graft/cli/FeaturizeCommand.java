package dev.graft.cli;

import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.error.Ranges;
import dev.graft.features.CacheRoot;
import dev.graft.features.Featurizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code graft featurize --base ... [--weights ...] --data DIR --out DIR}: pooled base features for
 * every image of a labelled folder, computed and written by {@link Featurizer} as
 *
 * <ul>
 *   <li>{@code features.npy}: float32 {@code [N, F]} (NumPy {@code .npy} v1.0, little-endian);
 *       convolutional features are global-average-pooled over height and width;
 *   <li>{@code labels.csv}: {@code row,label,class_index,path} for each row of the matrix;
 *   <li>{@code classes.txt}: the class names, one per line, in index order;
 *   <li>{@code featurize.json}: base id, weights key, cut layer, input size, preprocessing, resize
 *       mode, N and F.
 * </ul>
 *
 * Each file is written under a unique temporary name in DIR and moved into place, so concurrent
 * runs into one DIR never mix bytes (the last run to finish a file wins that file). Features go
 * through the managed feature cache ({@link CacheRoot}) unless {@code --no-cache}.
 */
@Command(
    name = "featurize",
    mixinStandardHelpOptions = true,
    description =
        "Compute pooled base features for a folder of labelled images and write them to"
            + " DIR (features.npy, labels.csv, classes.txt, featurize.json).",
    footer = {"", "Example: graft featurize --base resnet50 --data photos/ --out features/"})
final class FeaturizeCommand extends GraftCommand {
  @Mixin BaseOptions baseOptions;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "DIR",
      description = "Labelled images, one subfolder per class.")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
  Path out;

  @Option(
      names = "--batch",
      defaultValue = "32",
      paramLabel = "B",
      description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--seed",
      defaultValue = "42",
      paramLabel = "S",
      description = "Seed for randomly initialised weights (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--cache",
      paramLabel = "DIR",
      description =
          "Feature cache directory (default: -Dgraft.cache.dir, $GRAFT_CACHE_DIR,"
              + " $XDG_CACHE_HOME/graft or ~/.cache/graft). A rerun reads cached images"
              + " instead of computing them; a killed run resumes.")
  Path cache;

  @Option(names = "--no-cache", description = "Compute every image; read and write no cache.")
  boolean noCache;

  @Override
  int run() throws IOException {
    requireDirectory("--data", data);
    checked("--batch", Ranges::batchSize, batch);
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new BadInputException("--out: not a directory: " + out);
    }
    if (cache != null && Files.exists(cache) && !Files.isDirectory(cache)) {
      throw new BadInputException("--cache: not a directory: " + cache);
    }
    ImageDataset ds = scan("--data", data);
    Base base = baseOptions.load(seed);
    CacheRoot root = noCache ? null : cache != null ? CacheRoot.at(cache) : CacheRoot.standard();
    Featurizer.Written w;
    try (Featurizer f =
            Featurizer.builder(base)
                .resize(baseOptions.resizeMode())
                .batchSize(batch)
                .cache(root)
                .build();
        ProgressBar bar = progress("featurizing", ds.size(), "img")) {
      w = f.write(ds, out, bar::update);
    }
    warnSkipped(w.skipped());
    out()
        .printf(
            Locale.ROOT,
            "wrote %d x %d features (%s, cut %s) to %s (%d computed, %d from the cache)%n",
            w.count(),
            w.dimension(),
            base.id(),
            base.featureLayer(),
            w.features(),
            w.computed(),
            w.count() - w.computed());
    out().flush();
    return ExitCodes.OK;
  }
}
