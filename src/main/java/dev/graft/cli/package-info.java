/**
 * The command-line front end, {@code java -jar graft-cli.jar <command>}: {@link
 * dev.graft.cli.GraftCli} with the {@code train}, {@code evaluate}, {@code predict}, {@code
 * featurize} and {@code demo} commands. Commands are thin: they parse flags into library types,
 * call the library, and print. {@link dev.graft.cli.ExitCodes} is the one place that maps
 * exceptions to exit codes (0 success, 2 bad usage or bad input, 1 internal error). See {@code
 * docs/cli.md}.
 */
package dev.graft.cli;
