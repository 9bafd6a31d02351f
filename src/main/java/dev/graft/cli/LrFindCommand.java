package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.TransferBuilder;
import dev.graft.base.Base;
import dev.graft.data.ImageDataset;
import dev.graft.error.Ranges;
import dev.graft.head.Head;
import dev.graft.report.HtmlReport;
import dev.graft.strategy.Strategy;
import dev.graft.train.LearningRateFinder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code graft lr-find --data DIR --base ... --strategy ... [--report DIR] [--json]}: the
 * learning-rate range test on the strategy and head {@code train} would use with the same flags.
 */
@Command(
    name = "lr-find",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Find a learning rate: a short run of the strategy and head with the rate growing"
            + " exponentially every minibatch (1e-7 to 10, until the loss diverges); suggests the"
            + " rate where the loss falls fastest. For heads trained by Adam (a logistic-regression"
            + " head has no rate).",
    footer = {
      "",
      "Example:",
      "  graft lr-find --data flowers/ --base resnet50 --strategy finetune --report lr-report/"
    })
final class LrFindCommand extends GraftCommand {
  @Option(
      names = "--data",
      required = true,
      paramLabel = "DIR",
      description = "Training images, one subfolder per class.")
  Path data;

  @Mixin BaseOptions baseOptions;

  @Mixin StrategyOptions strategyOptions;

  @Option(
      names = "--batch",
      defaultValue = "32",
      paramLabel = "B",
      description = "Minibatch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--seed",
      defaultValue = "42",
      paramLabel = "S",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--dense",
      paramLabel = "UNITS",
      description = "Add a dense layer of UNITS to the head (default: the base's default head).")
  Integer dense;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      description = "Write the loss-against-rate curve to DIR/index.html.")
  Path report;

  @Option(names = "--json", description = "Print one JSON object on stdout instead of text.")
  boolean json;

  @Override
  int run() throws IOException {
    checked("--batch", Ranges::batchSize, batch);
    if (dense != null && dense < 1) {
      throw new BadInputException("--dense: must be at least 1, got " + dense);
    }
    Strategy s = strategyOptions.strategy();
    baseOptions.resizeMode();
    requireDirectory("--data", data);
    ImageDataset train = scan("--data", data);
    Base base = baseOptions.load(seed);
    Head head = dense == null ? base.defaultHead() : base.defaultHead().dense(dense);
    TransferBuilder b =
        Graft.base(base)
            .strategy(s)
            .head(head)
            .batchSize(batch)
            .seed(seed)
            .resize(baseOptions.resizeMode());
    err()
        .printf(
            Locale.ROOT,
            "lr-find: %s on %s (%d images), batches of %d%n",
            strategyOptions.name,
            base.id(),
            train.size(),
            batch);
    err().flush();
    LearningRateFinder.Result r;
    try (ProgressBar bar =
        progress("lr-find", LearningRateFinder.Settings.defaults().steps(), "steps")) {
      r = b.findLearningRate(train, bar::update);
      bar.finish();
    }
    if (report != null) {
      HtmlReport.builder("Learning-rate finder: " + base.id() + ", " + strategyOptions.name)
          .learningRateFinder(
              "Loss against learning rate", r.rates(), r.losses(), r.smoothed(), r.suggestion())
          .build()
          .write(report);
    }
    print(r);
    return ExitCodes.OK;
  }

  /** The suggestion as text, or the sweep as JSON. */
  private void print(LearningRateFinder.Result r) throws IOException {
    PrintWriter o = out();
    if (json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("suggestion", r.suggestion());
      root.put("method", "steepest descent of the smoothed loss");
      ArrayNode rates = root.putArray("rates");
      ArrayNode losses = root.putArray("losses");
      for (int i = 0; i < r.rates().length; i++) {
        rates.add(r.rates()[i]);
        losses.add(r.smoothed()[i]);
      }
      o.println(JSON.writeValueAsString(root));
    } else {
      o.println(r.describe());
      if (report != null) {
        o.println("report: " + report.resolve(HtmlReport.FILE_NAME));
      }
    }
    o.flush();
  }
}
