package dev.graft.cli;

import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.SkippedFile;
import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import dev.graft.error.SettingException;
import dev.graft.model.ModelFileException;
import dev.graft.model.TransferModel;
import dev.graft.report.Evaluation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntUnaryOperator;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of every command and the CLI's one support class: runs {@link #run()} and turns any
 * exception into an exit code and one line on stderr through {@link ExitCodes}, so commands behave
 * the same however the {@code CommandLine} was built; and holds the plumbing commands share
 * (checking paths, scanning folders, loading models, describing a model), so that no command calls
 * another's helpers.
 */
abstract class GraftCommand implements Callable<Integer> {
  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .setNodeFactory(new RoundingNodeFactory());

  /**
   * Writes doubles with 12 significant digits, so that {@code 3/8} computed with a rounding error
   * prints as {@code 0.375}, not {@code 0.37499999999999994}; far more digits than any metric
   * means.
   */
  private static final class RoundingNodeFactory
      extends org.nd4j.shade.jackson.databind.node.JsonNodeFactory {
    RoundingNodeFactory() {
      super(false);
    }

    @Override
    public org.nd4j.shade.jackson.databind.node.NumericNode numberNode(double v) {
      return super.numberNode(round(v));
    }

    @Override
    public org.nd4j.shade.jackson.databind.node.ValueNode numberNode(Double v) {
      return v == null ? nullNode() : super.numberNode(round(v));
    }

    static double round(double v) {
      if (!Double.isFinite(v) || v == 0) {
        return v;
      }
      return new java.math.BigDecimal(v)
          .round(new java.math.MathContext(12, java.math.RoundingMode.HALF_EVEN))
          .doubleValue();
    }
  }

  @Spec CommandSpec spec;
  @Mixin CommonOptions common;

  /** The command's work; returns the exit code. */
  abstract int run() throws Exception;

  @Override
  public final Integer call() {
    try {
      return run();
    } catch (Exception | Error e) {
      if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
        throw (Error) e;
      }
      return ExitCodes.report(e, spec.name(), err(), common != null && common.verbose);
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /**
   * Says on stderr, one line each, which files the library left out as unreadable (Graft's skip
   * policy, {@link SkippedFile}); after the fact, so that a failure stays one line.
   */
  void warnSkipped(List<SkippedFile> skipped) {
    for (SkippedFile s : skipped) {
      err()
          .println(
              dev.graft.io.SafeText.line(
                  "graft " + spec.name() + ": warning: skipped " + s,
                  dev.graft.io.SafeText.MAX_LINE));
    }
    err().flush();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  boolean verbose() {
    return common != null && common.verbose;
  }

  ProgressBar progress(String label, long total, String unit) {
    return new ProgressBar(err(), label, total, unit, ProgressBar.stderrIsTerminal());
  }

  /** One progress bar per pass of an {@link Evaluation}, each finished when the next begins. */
  final class PassBars implements Evaluation.Progress, AutoCloseable {
    private String pass;
    private ProgressBar bar;

    @Override
    public void update(String name, int done, int total) {
      if (!name.equals(pass)) {
        close();
        pass = name;
        bar = progress(name, total, "img");
      }
      bar.update(done);
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
        bar = null;
      }
    }
  }

  static Path requireDirectory(String flag, Path dir) {
    if (dir == null) {
      throw new BadInputException(flag + ": missing");
    }
    if (!Files.exists(dir)) {
      throw new BadInputException(flag + ": no such directory: " + dir);
    }
    if (!Files.isDirectory(dir)) {
      throw new BadInputException(flag + ": not a directory: " + dir);
    }
    return dir;
  }

  static Path requireFile(String flag, Path file) {
    if (!Files.exists(file)) {
      throw new BadInputException(flag + ": no such file: " + file);
    }
    if (!Files.isRegularFile(file)) {
      throw new BadInputException(flag + ": not a file: " + file);
    }
    return file;
  }

  /** Loads a model, blaming {@code flag} for anything wrong with the file. */
  static TransferModel loadModel(String flag, Path file) throws IOException {
    requireFile(flag, file);
    try {
      return TransferModel.load(file);
    } catch (ModelFileException | NoSuchFileException | GraftException e) {
      throw new BadInputException(flag + ": " + e.getMessage(), e);
    }
  }

  /**
   * A flag's value passed through the library's one range rule for it ({@link Ranges}), a value out
   * of range blamed on the flag.
   */
  static int checked(String flag, IntUnaryOperator rule, int value) {
    try {
      return rule.applyAsInt(value);
    } catch (SettingException e) {
      throw blame(flag, e);
    }
  }

  /** {@link #checked(String, IntUnaryOperator, int)} for a real-valued flag. */
  static double checked(String flag, DoubleUnaryOperator rule, double value) {
    try {
      return rule.applyAsDouble(value);
    } catch (SettingException e) {
      throw blame(flag, e);
    }
  }

  /** Wraps a library GraftException so the message names the flag that carried the value. */
  static BadInputException blame(String flag, RuntimeException e) {
    return new BadInputException(flag + ": " + e.getMessage(), e);
  }

  /** Scans a labelled folder, blaming {@code flag} for an empty or unreadable one. */
  static ImageDataset scan(String flag, Path dir) throws IOException {
    return scan(flag, dir, null);
  }

  /**
   * Scans a labelled folder; with {@code labels}, folders must be named after them (any subset).
   */
  static ImageDataset scan(String flag, Path dir, List<String> labels) throws IOException {
    try {
      ImageDataset ds =
          labels == null
              ? ImageFolder.of(dir)
              : ImageFolder.of(dir, labels, dev.graft.data.ScanOptions.defaults());
      if (ds.size() == 0) {
        throw new BadInputException(flag + ": no images found in " + dir);
      }
      return ds;
    } catch (GraftException e) {
      throw blame(flag, e);
    }
  }
}
