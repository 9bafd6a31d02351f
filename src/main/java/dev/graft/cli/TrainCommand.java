package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.TransferBuilder;
import dev.graft.base.Base;
import dev.graft.data.Augmentation;
import dev.graft.data.HoldOut;
import dev.graft.data.ImageDataset;
import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import dev.graft.error.SettingException;
import dev.graft.head.Head;
import dev.graft.io.SafeText;
import dev.graft.metrics.ClassificationReport;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import dev.graft.model.Provenance;
import dev.graft.model.TransferModel;
import dev.graft.report.Evaluation;
import dev.graft.report.HtmlReport;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.Phase;
import dev.graft.strategy.Strategy;
import dev.graft.train.StopSignal;
import dev.graft.train.TrainingListener;
import dev.graft.train.TrainingStoppedException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code graft train --data DIR [--val DIR | --val-split F] --base ... --strategy ... --out
 * MODEL.graft [--report DIR] ...}: trains a model and writes it (and optionally an HTML report).
 *
 * <p>Why one class of this size: over half of it declares the command's options with their help
 * text, which picocli wants on the command; the rest is parsing, one library call and printing.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Train a classifier on a folder of labelled images (a subfolder per class) on top"
            + " of a pretrained base, and write it as one .graft model file.",
    footer = {
      "",
      "Examples:",
      "  graft train --data flowers/ --base resnet50 --strategy finetune --unfreeze 10 --out flowers.graft --report report/",
      "  graft train --data digits/ --base cnn.zip --image-size 28 --strategy frozen --epochs 5 --out digits.graft",
      "",
      "Each epoch ends with a checkpoint (MODEL.graft.ckpt). After a kill or",
      "Ctrl-C, the same command with --resume continues from it, to the same",
      "model an uninterrupted run makes. Ctrl-C/SIGTERM stop at the end of the",
      "current minibatch and exit 130/143."
    })
final class TrainCommand extends GraftCommand {
  @Option(
      names = "--data",
      required = true,
      paramLabel = "DIR",
      order = 1,
      description = "Training images, one subfolder per class (the folder names are the labels).")
  Path data;

  @ArgGroup(exclusive = true, multiplicity = "0..1", order = 2)
  Validation validation = new Validation();

  /** Where validation images come from. */
  static final class Validation {
    @Option(
        names = "--val",
        paramLabel = "DIR",
        description = "Validation images, laid out like --data.")
    Path dir;

    @Option(
        names = "--val-split",
        paramLabel = "F",
        description =
            "Hold out this fraction of --data (stratified) for validation when --val is"
                + " not given (default: 0.2, or 0 when the smallest class has fewer than "
                + HoldOut.FEW_LABELS
                + " images; 0 for none).")
    Double split;
  }

  @Mixin BaseOptions baseOptions;

  @Mixin StrategyOptions strategyOptions;

  @Option(
      names = "--lr",
      paramLabel = "X",
      order = 5,
      description =
          "Learning rate: the head's (frozen, features) or the base's (finetune; the head"
              + " learns faster). Default: the strategy's.")
  Double lr;

  @Option(
      names = "--epochs",
      defaultValue = "10",
      paramLabel = "E",
      order = 6,
      description =
          "Epochs in all (default: ${DEFAULT-VALUE}); finetune's 2 head-only warm-up epochs"
              + " count within them. The best epoch by validation loss is kept.")
  int epochs;

  @Option(
      names = "--batch",
      defaultValue = "32",
      paramLabel = "B",
      order = 7,
      description = "Minibatch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--seed",
      defaultValue = "42",
      paramLabel = "S",
      order = 8,
      description = "Seed for the split, initialisation and shuffling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "MODEL.graft",
      order = 9,
      description = "Where to write the model file (written atomically).")
  Path out;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      order = 10,
      description =
          "Write an HTML report (learning curves, confusion matrix, per-class metrics,"
              + " settings) to DIR/index.html.")
  Path report;

  @Option(
      names = "--patience",
      defaultValue = "0",
      paramLabel = "N",
      order = 11,
      description = "Stop after N epochs without validation improvement (default: 0, never).")
  int patience;

  @Option(
      names = "--dense",
      paramLabel = "UNITS",
      order = 12,
      description =
          "Add a dense layer of UNITS to the head (an mlp head; default: the base's default"
              + " head).")
  Integer dense;

  @Option(
      names = "--head",
      paramLabel = "logreg|mlp",
      description =
          "logreg: a softmax fitted to convergence on the cached pooled features (L-BFGS, L2"
              + " chosen by cross-validation or on --val; no epochs or learning rate); mlp: the"
              + " base's default head trained by Adam for --epochs (with --dense, a hidden layer)."
              + " Default: logreg for features, unless --augment, --dense, --epochs, --lr or"
              + " --patience is given; else mlp (frozen and finetune train by Adam unless --head"
              + " logreg).")
  String headKind;

  @Option(
      names = "--dropout",
      paramLabel = "P",
      order = 13,
      description = "Dropout before the head's output layer (with --dense).")
  Double dropout;

  @Option(
      names = "--augment",
      order = 14,
      description =
          "Random flips, crops and colour jitter on training images (slower: no caching).")
  boolean augment;

  @Option(
      names = "--json",
      order = 15,
      description =
          "Print one JSON object on stdout at the end (model, epochs, bestEpoch, validation"
              + " metrics, resumedFromEpoch) instead of text.")
  boolean json;

  @Option(
      names = "--resume",
      order = 16,
      description =
          "Continue from the checkpoint of an interrupted run with the same arguments (the"
              + " result is identical to an uninterrupted run's). Without a checkpoint, start"
              + " afresh.")
  boolean resume;

  @Option(
      names = "--checkpoint",
      paramLabel = "DIR",
      order = 17,
      description =
          "Where the checkpoint written at each epoch's end lives (default: next to --out, as"
              + " MODEL.graft.ckpt).")
  Path checkpointDir;

  @Option(
      names = "--keep-checkpoint",
      order = 18,
      description = "Keep the checkpoint after the model file is written (default: delete it).")
  boolean keepCheckpoint;

  @Option(
      names = "--cache",
      paramLabel = "DIR",
      order = 19,
      description =
          "Keep the frozen base's activations on disk under DIR (default: in memory for the run):"
              + " a later run on the same images, or a --resume after a kill, reuses them instead"
              + " of running the base again. No effect with --augment.")
  Path cacheDir;

  /** How long a signal waits for training to reach a safe point before the JVM exits anyway. */
  private static final long STOP_WAIT_SECONDS = 30;

  @Override
  int run() throws IOException {
    validateFlags();
    Path checkpoint = prepareOutputs();
    Split split = split();
    Base base = baseOptions.load(seed);
    TransferBuilder builder = builder(base);
    announce(split, base, checkpoint);
    Optional<TransferModel> trained = fit(builder, split, checkpoint);
    if (trained.isEmpty()) {
      return ExitCodes.INTERRUPTED;
    }
    TransferModel model = trained.get();
    model.save(out);
    if (!keepCheckpoint) {
      Files.deleteIfExists(checkpoint);
    }
    Evaluation evaluation = split.val() == null ? null : Evaluation.of(model, split.val());
    if (evaluation != null) {
      warnSkipped(evaluation.skipped());
    }
    if (report != null) {
      writeReport(model, base, evaluation);
    }
    if (json) {
      printJson(model, evaluation, checkpoint);
    } else {
      printText(model, evaluation, checkpoint);
    }
    return ExitCodes.OK;
  }

  /**
   * The training images, the validation images (or null) and, when the default hold-out kept every
   * image for training, the line that says so.
   */
  private record Split(ImageDataset train, ImageDataset val, String fewLabels) {}

  /** Checks every output location before any work; returns the checkpoint file. */
  private Path prepareOutputs() {
    Path outDir = out.toAbsolutePath().getParent();
    requireWritableDirectory("--out", outDir, "the model file " + out.getFileName());
    if (report != null) {
      requireWritableDirectory("--report", report, "the report");
    }
    if (checkpointDir != null) {
      requireWritableDirectory("--checkpoint", checkpointDir, "checkpoints");
    }
    if (cacheDir != null) {
      requireWritableDirectory("--cache", cacheDir, "the activation cache");
    }
    requireDirectory("--data", data);
    if (validation.dir != null) {
      requireDirectory("--val", validation.dir);
    }
    return (checkpointDir != null ? checkpointDir.toAbsolutePath() : outDir)
        .resolve(out.getFileName() + ".ckpt");
  }

  /** Scans --data and --val, or holds validation images out of --data ({@link HoldOut}). */
  private Split split() throws IOException {
    ImageDataset all = scan("--data", data);
    if (validation.dir != null) {
      return new Split(all, scan("--val", validation.dir, all.labels()), null);
    }
    HoldOut h;
    try {
      h =
          validation.split == null
              ? HoldOut.byDefault(all, seed)
              : HoldOut.of(all, validation.split, seed);
    } catch (GraftException e) {
      throw blame("--val-split", e);
    }
    String fewLabels = null; // said once the base has loaded, so that a bad --base stays one line
    if (h.fewLabels()) {
      fewLabels =
          String.format(
              Locale.ROOT,
              "few labels (smallest class: %d images < %d): no validation split, every image"
                  + " trains%s; --val-split F holds some out%n",
              h.smallestClass(),
              HoldOut.FEW_LABELS,
              logisticRegression()
                  ? " and cross-validation chooses the head's L2 strength"
                  : " and the last epoch is kept");
    }
    return new Split(h.train(), h.validation(), fewLabels);
  }

  /** The library's builder, configured from the flags. */
  private TransferBuilder builder(Base base) {
    TransferBuilder builder =
        Graft.base(base)
            .strategy(strategy())
            .epochs(epochs)
            .batchSize(batch)
            .seed(seed)
            .earlyStopping(patience)
            .resize(baseOptions.resizeMode());
    if (lr != null) {
      builder.learningRate(lr);
    }
    if (logisticRegression()) {
      builder.head(Head.logisticRegression());
    } else if (dense != null) {
      Head h = base.defaultHead().solver(Head.Solver.ADAM).dense(dense);
      builder.head(dropout == null ? h : h.dropout(dropout));
    } else {
      builder.head(base.defaultHead());
    }
    if (augment) {
      builder.augmentation(Augmentation.standard());
    }
    if (cacheDir != null) {
      builder.activationCache(ActivationCache.onDisk(cacheDir));
    }
    return builder;
  }

  /** Says on stderr what is about to train, and what happens to an earlier checkpoint. */
  private void announce(Split split, Base base, Path checkpoint) {
    PrintWriter err = err();
    if (split.fewLabels() != null) {
      err.print(split.fewLabels());
    }
    err.printf(
        Locale.ROOT,
        "training %s on %s (%d images, %d classes; validation: %s)%n",
        strategyOptions.name,
        SafeText.escape(base.id()),
        split.train().size(),
        split.train().numClasses(),
        split.val() == null ? "none" : split.val().size() + " images");
    if (resume && !Files.isRegularFile(checkpoint)) {
      err.println("no checkpoint at " + checkpoint + ": starting afresh");
    } else if (!resume && Files.isRegularFile(checkpoint)) {
      err.println(
          "overwriting the checkpoint of an earlier run at "
              + checkpoint
              + " (--resume continues it instead)");
    }
    err.flush();
  }

  /**
   * Trains with a progress bar and a checkpoint each epoch; Ctrl-C or SIGTERM stop at the next safe
   * point. Empty when stopped (the message saying how to resume is printed).
   */
  private Optional<TransferModel> fit(TransferBuilder builder, Split split, Path checkpoint) {
    PrintWriter err = err();
    StopSignal stop = new StopSignal();
    builder.checkpoint(checkpoint).resume(resume).stopSignal(stop);
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> awaitSafePoint(stop, finished, checkpoint), "graft-train-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try (ProgressBar bar =
        logisticRegression()
            ? progress("fitting the head", 1, "fit")
            : progress("epochs", epochs, "epoch")) {
      builder.listener(new EpochProgress(bar, err, checkpoint));
      return Optional.of(builder.fit(split.train(), split.val()));
    } catch (TrainingStoppedException e) {
      err.println(
          "graft train: stopped"
              + (e.checkpointedEpochs() > 0
                  ? "; the checkpoint of epoch "
                      + e.checkpointedEpochs()
                      + " is kept at "
                      + checkpoint
                      + ". Run the same command with --resume to continue from it."
                  : " before the first epoch ended: nothing to resume from."));
      err.flush();
      return Optional.empty();
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it returns now that training has finished
      }
    }
  }

  /** The HTML report: learning curves, then the validation evaluation or why there is none. */
  private void writeReport(TransferModel model, Base base, Evaluation evaluation)
      throws IOException {
    HtmlReport.Builder rb =
        HtmlReport.builder(
                "Graft: " + base.id() + ", " + strategyOptions.name + ", " + data.getFileName())
            .learningCurves("Learning curves", model.info().history(), model.labels().size());
    if (evaluation != null) {
      evaluation.addTo(
          rb,
          "Validation set ("
              + evaluation.metrics().size()
              + " images"
              + (logisticRegression() ? ")" : ", best epoch restored)"));
    } else {
      rb.text(
          "Validation",
          "No validation images ("
              + model.info().provenance().validation()
              + "). Run graft evaluate --model MODEL --data DIR --report DIR on held-out images"
              + " for the confusion matrix, the top losses, the most-confused classes and"
              + " Grad-CAM.");
    }
    rb.settings(model.info().table()).build().write(report);
  }

  private void printJson(TransferModel model, Evaluation evaluation, Path checkpoint)
      throws IOException {
    Provenance provenance = model.info().provenance();
    ObjectNode root = JSON.createObjectNode();
    root.put("model", out.toString());
    root.put("epochs", model.info().history().size());
    root.put("bestEpoch", provenance.restoredEpoch());
    root.put("resumedFromEpoch", provenance.resumedFromEpoch());
    root.put("stoppedEarly", provenance.stoppedEarly());
    if (evaluation == null) {
      root.putNull("validation");
    } else {
      ClassificationReport vr = evaluation.metrics();
      ObjectNode v = root.putObject("validation");
      v.put("images", vr.size());
      v.put("accuracy", vr.accuracy());
      v.put("loss", vr.logLoss());
      v.put("macroF1", vr.macroF1());
    }
    root.put("checkpoint", keepCheckpoint ? checkpoint.toString() : null);
    if (report != null) {
      root.put("report", report.resolve(HtmlReport.FILE_NAME).toString());
    }
    out().println(JSON.writeValueAsString(root));
    out().flush();
  }

  private void printText(TransferModel model, Evaluation evaluation, Path checkpoint) {
    Provenance provenance = model.info().provenance();
    PrintWriter o = out();
    o.printf(Locale.ROOT, "model: %s%n", SafeText.escape(out.toString()));
    if (provenance.resumedFromEpoch() > 0) {
      o.printf(Locale.ROOT, "resumed from epoch %d%n", provenance.resumedFromEpoch());
    }
    o.printf(Locale.ROOT, "epochs: %d%n", model.info().history().size());
    boolean convex = !provenance.l2().isEmpty();
    if (convex) {
      o.printf(
          Locale.ROOT,
          "head: logistic regression fitted to convergence, L2 %s (%s)%n",
          provenance.l2(),
          provenance.l2Selection());
    }
    if (evaluation != null) {
      ClassificationReport vr = evaluation.metrics();
      o.printf(
          Locale.ROOT,
          convex
              ? "validation accuracy: %.4f (%d images)%n"
              : "validation accuracy: %.4f (%d images, best epoch %d)%n",
          vr.accuracy(),
          vr.size(),
          provenance.restoredEpoch());
    }
    if (keepCheckpoint) {
      o.println("checkpoint: " + SafeText.escape(checkpoint.toString()));
    }
    if (report != null) {
      o.println("report: " + SafeText.escape(report.resolve(HtmlReport.FILE_NAME).toString()));
    }
    o.flush();
  }

  private void validateFlags() {
    checked("--epochs", Ranges::epochs, epochs);
    checked("--batch", Ranges::batchSize, batch);
    checked("--patience", Ranges::patience, patience);
    if (lr != null) {
      checked("--lr", Ranges::learningRate, lr);
    }
    if (validation.split != null && !(validation.split >= 0 && validation.split < 1)) {
      throw new BadInputException("--val-split: must be in [0, 1), got " + validation.split);
    }
    if (dropout != null && dense == null) {
      throw new BadInputException("--dropout: needs --dense");
    }
    if (dropout != null && !(dropout >= 0 && dropout < 1)) {
      throw new BadInputException("--dropout: must be in [0, 1), got " + dropout);
    }
    if (dense != null && dense < 1) {
      throw new BadInputException("--dense: must be at least 1, got " + dense);
    }
    baseOptions.resizeMode(); // --resize, --pad-margin, --pad-fill checked before any work
    if (headKind != null && !headKind.equals("logreg") && !headKind.equals("mlp")) {
      throw new BadInputException("--head: expected logreg or mlp, got '" + headKind + "'");
    }
    if ("logreg".equals(headKind)) {
      if (dense != null) {
        throw new BadInputException(
            "--head logreg: a logistic regression has no hidden layer; drop --dense or use"
                + " --head mlp");
      }
    }
    if (logisticRegression()) {
      try {
        strategy().checkHead(Head.Solver.LBFGS, !augment); // --augment turns caching off
      } catch (SettingException e) {
        throw blame("--head logreg (with --strategy " + strategyOptions.name + ")", e);
      }
    }
    if (Files.isDirectory(out)) {
      throw new BadInputException(
          "--out: is a directory, expected a file name like model.graft: " + out);
    }
    if (report != null && Files.exists(report) && !Files.isDirectory(report)) {
      throw new BadInputException("--report: not a directory: " + report);
    }
    strategy();
  }

  /**
   * Fails now, before any training, when {@code dir} cannot be created or written: creates it and a
   * probe file in it (removed at once).
   */
  static void requireWritableDirectory(String flag, Path dir, String what) {
    Path abs = dir.toAbsolutePath();
    for (Path p = abs; p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        if (!Files.isDirectory(p)) {
          throw new BadInputException(
              flag + ": cannot write " + what + ": " + p + " is a file, not a directory");
        }
        break;
      }
    }
    try {
      Files.createDirectories(abs);
      Path probe = Files.createTempFile(abs, ".graft-probe-", ".tmp");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      throw new BadInputException(
          flag
              + ": cannot write "
              + what
              + " in "
              + abs
              + " ("
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
              + ")",
          e);
    }
  }

  /**
   * Whether the head is the convex logistic regression: asked for, or the default, which it is for
   * features unless a flag that only an Adam-trained head reads was given ({@code --dense}, {@code
   * --augment}, {@code --epochs}, {@code --lr}, {@code --patience}).
   */
  private boolean logisticRegression() {
    if (headKind != null) {
      return headKind.equals("logreg");
    }
    var parsed = spec.commandLine().getParseResult();
    boolean adamFlags =
        parsed != null
            && (parsed.hasMatchedOption("--epochs")
                || parsed.hasMatchedOption("--lr")
                || parsed.hasMatchedOption("--patience"));
    return dense == null && !augment && !adamFlags && strategy().defaultsToLogisticRegression();
  }

  private Strategy strategy() {
    return strategyOptions.strategy();
  }

  /**
   * Runs in the shutdown hook (Ctrl-C, SIGTERM): asks training to stop at the end of the current
   * minibatch and waits for it, so that the JVM exits (130 or 143, by the signal) after the message
   * saying how to resume. A run that does not reach a safe point in time (a long first pass filling
   * the activation cache) exits anyway; the last checkpoint is whole either way.
   */
  private void awaitSafePoint(StopSignal stop, CountDownLatch finished, Path checkpoint) {
    stop.request();
    try {
      if (!finished.await(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
        PrintWriter err = err();
        err.println(
            "graft train: stopped without reaching a safe point; the last checkpoint (if any) is"
                + " kept at "
                + checkpoint
                + ". Run the same command with --resume to continue from it.");
        err.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Advances the epoch bar and shows the latest losses. */
  private static final class EpochProgress implements TrainingListener {
    private final ProgressBar bar;
    private final PrintWriter err;
    private final Path checkpoint;

    EpochProgress(ProgressBar bar, PrintWriter err, Path checkpoint) {
      this.bar = bar;
      this.err = err;
      this.checkpoint = checkpoint;
    }

    @Override
    public void onResume(int epochs, History h) {
      err.println("resuming from epoch " + epochs + " (checkpoint " + checkpoint + ")");
      err.flush();
      bar.update(epochs);
    }

    @Override
    public void onPhaseStart(Phase phase, boolean cached) {
      bar.suffix(cached ? "(first epoch computes the cached activations)" : "");
    }

    @Override
    public void onEpochEnd(EpochRecord r, History h) {
      String s = String.format(Locale.ROOT, "loss %.4f acc %.3f", r.trainLoss(), r.trainAccuracy());
      if (r.hasValidation()) {
        s +=
            String.format(
                Locale.ROOT,
                "  val_loss %.4f val_acc %.3f",
                r.validationLoss(),
                r.validationAccuracy());
      }
      bar.suffix(s);
      bar.update(r.epoch());
    }
  }
}
