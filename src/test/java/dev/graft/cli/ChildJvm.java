package dev.graft.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a child JVM on the test class path, as tests that need a process start it.
 */
final class ChildJvm {
  private ChildJvm() {}

  /**
   * {@code java -Xmx1g} with this JVM's {@code --add-opens}/{@code --add-exports}, then {@code
   * jvmOptions}, this class path, {@code main} and {@code args}. The 1 GiB heap is the bound the
   * hostile-file cases are held to.
   */
  static List<String> command(List<String> jvmOptions, Class<?> main, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    for (String o : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (o.startsWith("--add-opens") || o.startsWith("--add-exports")) {
        cmd.add(o);
      }
    }
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(args);
    return cmd;
  }
}
