package dev.graft.cli;

import picocli.CommandLine.Command;

/** {@code graft demo}: placeholder. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the demo.")
final class DemoCommand extends GraftCommand {
  @Override
  int run() {
    throw new UnsupportedOperationException("demo is not implemented yet");
  }
}
