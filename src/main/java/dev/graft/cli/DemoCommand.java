package dev.graft.cli;

import dev.graft.demo.MnistTransferDemo;
import dev.graft.demo.MnistTransferDemo.Run;
import dev.graft.io.AtomicFiles;
import dev.graft.metrics.EpochRecord;
import dev.graft.report.HtmlReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code graft demo}: Keras's {@code mnist_transfer_cnn} experiment on the bundled digits, no
 * network needed. Prints a table and writes the HTML report.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Reproduce Keras's mnist_transfer_cnn experiment on the bundled MNIST digits (no network):"
          + " pretrain a small CNN on digits 0-4, then learn digits 5-9 from a few labels per class"
          + " with each strategy (frozen, finetune, features) and, as the baseline, the same network"
          + " trained from scratch. Prints strategy, labels per class, held-out accuracy and seconds,"
          + " and writes an HTML report."
    },
    footer = {"", "Example: graft demo --labels 10,100 --report graft-demo-report"})
final class DemoCommand extends GraftCommand {

  @Option(
      names = "--labels",
      split = ",",
      defaultValue = "10,100",
      paramLabel = "N",
      description = "Labelled images per class for the transfer runs (default: ${DEFAULT-VALUE}).")
  List<Integer> labels;

  @Option(
      names = "--strategies",
      split = ",",
      defaultValue = "frozen,finetune,features,scratch",
      paramLabel = "S",
      description = "Which runs to make (default: ${DEFAULT-VALUE}).")
  List<String> strategies;

  @Option(
      names = "--report",
      defaultValue = "graft-demo-report",
      paramLabel = "DIR",
      description = "Where to write the HTML report (default: ${DEFAULT-VALUE}).")
  Path report;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Also save every trained model as DIR/<strategy>-<labels>.graft.")
  Path out;

  @Option(
      names = "--pretrain",
      defaultValue = "300",
      paramLabel = "N",
      description = "Pretraining images per source digit (default: ${DEFAULT-VALUE}).")
  int pretrain;

  @Option(
      names = "--pretrain-epochs",
      defaultValue = "3",
      paramLabel = "E",
      description = "Pretraining epochs (default: ${DEFAULT-VALUE}).")
  int pretrainEpochs;

  @Option(
      names = "--test",
      defaultValue = "200",
      paramLabel = "N",
      description = "Held-out test images per target digit (default: ${DEFAULT-VALUE}).")
  int test;

  @Option(
      names = "--validation",
      defaultValue = "30",
      paramLabel = "N",
      description =
          "Validation images per target digit, shared by every run for learning curves and"
              + " the best epoch (default: ${DEFAULT-VALUE}).")
  int validation;

  @Option(
      names = "--epochs",
      defaultValue = "0",
      paramLabel = "E",
      description =
          "Epochs of every transfer run (default: 30 with up to 20 labels per class, 20"
              + " up to 50, 12 above).")
  int epochs;

  @Option(
      names = "--seed",
      defaultValue = "42",
      paramLabel = "S",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--threads",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "Native (ND4J) threads for the demo's tiny networks; more threads only add"
              + " overhead at this size, and a lot of it on a busy machine (default: ${DEFAULT-VALUE};"
              + " 0 leaves ND4J's default).")
  int threads;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      description =
          "Where to extract the digits (default: a temporary folder, deleted afterwards).")
  Path work;

  @Override
  int run() throws IOException {
    MnistTransferDemo.Config config;
    try {
      config =
          new MnistTransferDemo.Config(
              labels, pretrain, pretrainEpochs, validation, test, seed, strategies, epochs);
    } catch (dev.graft.error.GraftException e) {
      throw new BadInputException(
          "--labels/--strategies/--pretrain/--validation/--test/--epochs: " + e.getMessage(), e);
    }
    if (Files.exists(report) && !Files.isDirectory(report)) {
      throw new BadInputException("--report: not a directory: " + report);
    }
    if (threads < 0) {
      throw new BadInputException("--threads: must be >= 0, got " + threads);
    }
    var env = org.nd4j.linalg.factory.Nd4j.getEnvironment();
    int oldThreads = env.maxThreads();
    int oldMaster = env.maxMasterThreads();
    var blas = org.nd4j.linalg.factory.Nd4j.factory().blas();
    int oldBlas = blas.getMaxThreads();
    if (threads > 0) {
      env.setMaxThreads(threads);
      env.setMaxMasterThreads(threads);
      blas.setMaxThreads(threads); // OpenBLAS has its own pool (what convolutions' GEMMs use)
    }
    try {
      return runDemo(config);
    } finally {
      env.setMaxThreads(oldThreads);
      env.setMaxMasterThreads(oldMaster);
      if (threads > 0 && oldBlas > 0) {
        blas.setMaxThreads(oldBlas);
      }
    }
  }

  private int runDemo(MnistTransferDemo.Config config) throws IOException {
    Path dir =
        work != null ? Files.createDirectories(work) : Files.createTempDirectory("graft-demo-");
    PrintWriter err = err();
    err.println(
        "graft demo: pretrain a CNN on digits 0-4, transfer to 5-9 with "
            + joinAnd(labels)
            + " labels per class; held-out test: "
            + test
            + " images per digit");
    err.flush();
    long start = System.nanoTime();
    MnistTransferDemo.Result result;
    try {
      result = new MnistTransferDemo(config, dir, new Bars()).run();
    } finally {
      if (work == null) {
        deleteTree(dir);
      }
    }
    double total = (System.nanoTime() - start) / 1e9;

    List<List<String>> rows = new ArrayList<>();
    for (Run r : result.runs()) {
      rows.add(
          List.of(
              r.strategy(),
              Integer.toString(r.labelsPerClass()),
              String.format(Locale.ROOT, "%.3f", r.accuracy()),
              String.format(Locale.ROOT, "%.1f", r.seconds())));
    }
    PrintWriter o = out();
    o.println();
    o.printf(
        Locale.ROOT,
        "%-10s %16s %18s %9s%n",
        "strategy",
        "labels per class",
        "held-out accuracy",
        "seconds");
    for (List<String> row : rows) {
      o.printf(
          Locale.ROOT, "%-10s %16s %18s %9s%n", row.get(0), row.get(1), row.get(2), row.get(3));
    }
    o.printf(
        Locale.ROOT,
        "%nbase: pretrained on digits 0-4 in %.1f s (source accuracy %.3f); test: %d digits 5-9;"
            + " total %.0f s%n",
        result.pretrainSeconds(),
        result.pretrainHistory().last().map(EpochRecord::validationAccuracy).orElse(Double.NaN),
        5 * test,
        total);
    for (int n : labels) {
      double best =
          result.runs().stream()
              .filter(r -> r.labelsPerClass() == n && !r.strategy().equals("scratch"))
              .mapToDouble(Run::accuracy)
              .max()
              .orElse(Double.NaN);
      double scratch =
          result.runs().stream()
              .filter(r -> r.labelsPerClass() == n && r.strategy().equals("scratch"))
              .mapToDouble(Run::accuracy)
              .findFirst()
              .orElse(Double.NaN);
      if (Double.isNaN(best) || Double.isNaN(scratch)) {
        continue;
      }
      o.printf(
          Locale.ROOT,
          "%d labels/class: best transfer %.3f vs from scratch %.3f (%+.1f points)%n",
          n,
          best,
          scratch,
          100 * (best - scratch));
    }
    if (out != null) {
      Files.createDirectories(out);
      for (Run r : result.runs()) {
        r.model().save(out.resolve(r.strategy() + "-" + r.labelsPerClass() + ".graft"));
      }
      o.println("models: " + out);
    }
    Path page = writeReport(result, rows, total);
    o.println("report: " + page);
    o.flush();
    return ExitCodes.OK;
  }

  private Path writeReport(MnistTransferDemo.Result result, List<List<String>> rows, double total)
      throws IOException {
    HtmlReport.Builder b = HtmlReport.builder("Graft demo: transfer from digits 0-4 to digits 5-9");
    b.text(
        "What this is",
        "Keras's mnist_transfer_cnn experiment on "
            + "the bundled MNIST digits: a small CNN"
            + " (conv 5x5x8, max-pool, conv 3x3x16, max-pool, dense 64) is trained on digits 0-4, then digits 5-9"
            + " are learned from "
            + joinAnd(labels)
            + " labelled images per class with each Graft strategy on that base,"
            + " and with the same network trained from scratch as the baseline. Accuracy is measured on "
            + 5 * test
            + " held-out digits never used for training or validation; every run also sees the same"
            + " "
            + validation
            + " validation images per class (learning curves, best epoch). Total time "
            + String.format(Locale.ROOT, "%.0f s", total)
            + ".");
    b.table(
        "Results", List.of("strategy", "labels per class", "held-out accuracy", "seconds"), rows);
    Map<String, List<Double>> series = new LinkedHashMap<>();
    for (int n : labels) {
      List<Double> acc = new ArrayList<>();
      for (String s : strategies) {
        acc.add(
            result.runs().stream()
                .filter(r -> r.labelsPerClass() == n && r.strategy().equals(s))
                .mapToDouble(Run::accuracy)
                .findFirst()
                .orElse(Double.NaN));
      }
      series.put(n + " labels/class", acc);
    }
    b.barChart("Held-out accuracy by strategy", "accuracy", strategies, series);
    int fewest = labels.stream().mapToInt(Integer::intValue).min().orElseThrow();
    List<Run> shown = new ArrayList<>();
    result.runs().stream()
        .filter(r -> r.labelsPerClass() == fewest && !r.strategy().equals("scratch"))
        .max((x, y) -> Double.compare(x.accuracy(), y.accuracy()))
        .ifPresent(shown::add);
    result.runs().stream()
        .filter(r -> r.labelsPerClass() == fewest && r.strategy().equals("scratch"))
        .findFirst()
        .ifPresent(shown::add);
    for (Run r : shown) {
      String title = r.strategy() + ", " + r.labelsPerClass() + " labels per class";
      b.learningCurves("Learning curves: " + title, r.model().info().history());
      b.evaluation("Held-out test: " + title, r.test());
    }
    b.learningCurves(
        "Pretraining on digits 0-4 (validation: 80 held-out source digits per class)",
        result.pretrainHistory());
    Map<String, String> settings = new LinkedHashMap<>(shown.get(0).model().info().table());
    settings.put(
        "pretraining",
        result.config().pretrainPerClass()
            + " images per digit 0-4, "
            + result.config().pretrainEpochs()
            + " epochs, Adam 1e-3, batch 32");
    settings.put("seed", Long.toString(result.config().seed()));
    b.settings(settings);
    return b.build().write(report);
  }

  private static String joinAnd(List<Integer> xs) {
    List<String> s = xs.stream().map(String::valueOf).toList();
    return s.size() == 1
        ? s.get(0)
        : String.join(", ", s.subList(0, s.size() - 1)) + " and " + s.get(s.size() - 1);
  }

  private static void deleteTree(Path dir) {
    try {
      AtomicFiles.deleteTree(dir);
    } catch (IOException ignored) {
      // a temporary folder left behind is not worth failing the demo for
    }
  }

  /** One progress bar per stage (pretraining, then each run). */
  private final class Bars implements MnistTransferDemo.Progress {
    private ProgressBar bar;

    @Override
    public void stageStart(String name, int epochs) {
      bar = progress(name, epochs, "epoch");
    }

    @Override
    public void epoch(EpochRecord r) {
      String s =
          Double.isNaN(r.trainAccuracy())
              ? String.format(Locale.ROOT, "loss %.3f", r.trainLoss())
              : String.format(Locale.ROOT, "loss %.3f acc %.3f", r.trainLoss(), r.trainAccuracy());
      if (!Double.isNaN(r.validationAccuracy())) {
        s += String.format(Locale.ROOT, " val_acc %.3f", r.validationAccuracy());
      }
      bar.suffix(s);
      bar.update(r.epoch());
    }

    @Override
    public void stageEnd(String name, double seconds) {
      bar.finish();
    }
  }
}
