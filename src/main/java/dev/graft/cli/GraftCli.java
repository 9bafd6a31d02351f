package dev.graft.cli;

import dev.graft.model.GraftVersion;
import dev.graft.perf.NativeTuning;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar graft-cli.jar <command> ...}: transfer learning on image folders from a
 * terminal. Commands: {@code train}, {@code evaluate}, {@code predict}, {@code featurize}, {@code
 * demo}; {@code --help} on each. Exit codes: 0 success, 2 bad usage or bad input (one line on
 * stderr naming the flag or file), 1 internal error (see {@link ExitCodes}).
 *
 * <pre>{@code
 * int code = GraftCli.commandLine().execute("predict", "--model", "digits.graft", "seven.png");
 * }</pre>
 */
@Command(
    name = "graft",
    mixinStandardHelpOptions = true,
    versionProvider = GraftCli.Version.class,
    description =
        "Transfer learning on images: train a model from a folder of labelled images on a"
            + " pretrained base, evaluate it, predict with it.",
    subcommands = {
      TrainCommand.class,
      EvaluateCommand.class,
      PredictCommand.class,
      FeaturizeCommand.class,
      LrFindCommand.class,
      CacheCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeOnInvalidInput = ExitCodes.BAD_INPUT,
    exitCodeOnExecutionException = ExitCodes.INTERNAL,
    footer = {"", "Exit codes: 0 success, 2 bad usage or bad input, 1 internal error."})
public final class GraftCli implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    }
    System.setProperty("java.awt.headless", "true");
    NativeTuning.apply(); // before ND4J loads: pick the native build for this CPU
    System.exit(commandLine().execute(args));
  }

  /**
   * A {@code CommandLine} for Graft with its error handling installed: bad usage prints one line
   * naming the flag (and where to find help) and exits 2.
   */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new GraftCli());
    List<String> top = new ArrayList<>(Arrays.asList(cl.getCommandSpec().usageMessage().footer()));
    top.add(
        "Docs: "
            + GraftVersion.docsUrl()
            + "/cli.md"); // the published docs, not a path in the sources
    cl.getCommandSpec().usageMessage().footer(top.toArray(String[]::new));
    for (CommandLine sub : cl.getSubcommands().values()) {
      // the catalog, as Architecture declares it, under the help of each command taking --base
      CommandSpec spec = sub.getCommandSpec();
      if (spec.findOption("--base") != null) {
        List<String> footer = new ArrayList<>(Arrays.asList(BaseOptions.catalogHelp()));
        footer.addAll(Arrays.asList(spec.usageMessage().footer()));
        spec.usageMessage().footer(footer.toArray(String[]::new));
      }
    }
    cl.setParameterExceptionHandler(GraftCli::onBadUsage);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parse) ->
            ExitCodes.report(ex, cmd.getCommandName(), cmd.getErr(), verbose(parse)));
    return cl;
  }

  /** Same as {@link #commandLine()}, printing to the given writers (for embedding and tests). */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = commandLine();
    cl.setOut(out);
    cl.setErr(err);
    return cl;
  }

  private static int onBadUsage(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    err.println(
        name
            + ": error: "
            + ex.getMessage().strip().replace('\n', ' ')
            + " (see '"
            + name
            + " --help')");
    if (Arrays.asList(args).contains("--verbose")) {
      ex.printStackTrace(err);
    }
    err.flush();
    return ExitCodes.BAD_INPUT;
  }

  private static boolean verbose(CommandLine.ParseResult parse) {
    for (CommandLine.ParseResult p = parse; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    err.println(
        "graft: error: missing command (train, evaluate, predict, featurize or demo); see 'graft --help'");
    err.flush();
    return ExitCodes.BAD_INPUT;
  }

  /** Reports the Graft version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"graft " + GraftVersion.current()};
    }
  }
}
