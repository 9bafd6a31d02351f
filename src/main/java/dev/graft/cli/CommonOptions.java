package dev.graft.cli;

import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {
  @Option(
      names = "--verbose",
      description = "Log progress details and print stack traces on errors.")
  boolean verbose;
}
