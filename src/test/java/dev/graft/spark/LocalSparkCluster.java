package dev.graft.spark;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A Spark standalone cluster made of separate JVMs on 127.0.0.1, started from the test class path
 * (no Spark download): a master and {@code n} workers, each worker with one core, and their
 * executors. What it takes with Spark 3.5 on Java 17:
 *
 * <ul>
 *   <li>a {@code SPARK_HOME} whose {@code jars/} links every jar of the class path (workers launch
 *       executors with {@code SPARK_HOME/jars/*}); class directories (Graft's own classes) reach
 *       executors through {@code spark.executor.extraClassPath};
 *   <li>{@code SPARK_SCALA_VERSION=2.12} (else the executor launcher looks for a source build:
 *       "Cannot find any build directories");
 *   <li>{@code SPARK_LOCAL_IP=127.0.0.1} and {@code --host 127.0.0.1}: every socket on loopback;
 *   <li>Spark's {@code --add-opens} list for every JVM ({@link JavaModuleOptions}).
 * </ul>
 *
 * {@link #close()} stops every process it started, executors included, also when a test fails; a
 * shutdown hook does the same if the test JVM is ended first.
 */
final class LocalSparkCluster implements AutoCloseable {
  private static final Pattern MASTER_URL = Pattern.compile("(spark://127\\.0\\.0\\.1:\\d+)");

  private final Path home;
  private final List<String> jars = new ArrayList<>();
  private final List<String> classDirs = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final Thread hook = new Thread(this::stopAll, "local-spark-cluster-stop");
  private String masterUrl;
  private int workers;

  private LocalSparkCluster(Path home) {
    this.home = home;
  }

  /**
   * Starts a master and {@code workers} one-core workers under {@code dir} and waits until they
   * have all registered.
   */
  static LocalSparkCluster start(Path dir, int workers, Duration timeout)
      throws IOException, InterruptedException {
    LocalSparkCluster c = new LocalSparkCluster(Files.createDirectories(dir.resolve("spark-home")));
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      c.linkClassPath();
      long deadline = System.nanoTime() + timeout.toNanos();
      Path masterLog = dir.resolve("master.log");
      c.launch(
          masterLog,
          "org.apache.spark.deploy.master.Master",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--webui-port",
          "0");
      Matcher m = c.await(masterLog, MASTER_URL, deadline);
      c.masterUrl = m.group(1);
      c.workers = workers;
      List<Path> logs = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        Path log = dir.resolve("worker-" + i + ".log");
        logs.add(log);
        c.launch(
            log,
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--webui-port",
            "0",
            "--cores",
            "1",
            "--memory",
            "1g",
            "--work-dir",
            Files.createDirectories(dir.resolve("work-" + i)).toString(),
            c.masterUrl);
      }
      for (Path log : logs) {
        c.await(log, Pattern.compile("Successfully registered with master"), deadline);
      }
      return c;
    } catch (IOException | InterruptedException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** {@code spark://127.0.0.1:PORT}. */
  String masterUrl() {
    return masterUrl;
  }

  /** Graft's class directories, for {@code spark.executor.extraClassPath}. */
  String classDirs() {
    return String.join(File.pathSeparator, classDirs);
  }

  /**
   * The configuration of a driver of this cluster: its master, every socket on 127.0.0.1, one core
   * per executor and one executor per worker (the job starts once all have registered), Graft's
   * class directories and the Java 17 flags for the executors (which log at WARN).
   */
  Map<String, String> driverConf(String executorMemory) {
    Map<String, String> conf = new java.util.HashMap<>();
    conf.put("spark.master", masterUrl);
    conf.put("spark.driver.host", "127.0.0.1");
    conf.put("spark.driver.bindAddress", "127.0.0.1");
    conf.put("spark.ui.enabled", "false");
    conf.put("spark.executor.cores", "1");
    conf.put("spark.cores.max", Integer.toString(workers));
    conf.put("spark.scheduler.minRegisteredResourcesRatio", "1.0");
    conf.put("spark.executor.memory", executorMemory);
    conf.put("spark.executor.extraClassPath", classDirs());
    conf.put(
        "spark.executor.extraJavaOptions",
        String.join(" ", javaOptions())
            .replace("simpleLogger.defaultLogLevel=info", "simpleLogger.defaultLogLevel=warn"));
    return conf;
  }

  /** The JVM options every Spark JVM of this cluster gets. */
  static List<String> javaOptions() {
    List<String> opts =
        new ArrayList<>(List.of(JavaModuleOptions.defaultModuleOptions().split("\\s+")));
    opts.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
    opts.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    return opts;
  }

  /**
   * Starts a driver JVM running {@code mainClass} on the whole class path, with {@code sparkConf}
   * as {@code -Dspark.*} properties, and waits for it; its output goes to {@code log}.
   *
   * @return the exit code
   */
  int runDriver(
      Path log, String mainClass, Map<String, String> sparkConf, Duration timeout, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx1g"));
    cmd.addAll(javaOptions());
    sparkConf.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    cmd.add("-cp");
    cmd.add(
        String.join(File.pathSeparator, classDirs)
            + File.pathSeparator
            + String.join(File.pathSeparator, jars));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    Process p = start(cmd, log);
    if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          "driver " + mainClass + " did not finish within " + timeout + "; log:\n" + tail(log));
    }
    return p.exitValue();
  }

  /** The last lines of a log, for failure messages. */
  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private void linkClassPath() throws IOException {
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path jarsDir = Files.createDirectories(home.resolve("jars"));
    int i = 0;
    for (String entry : cp.split(File.pathSeparator)) {
      Path p = Path.of(entry).toAbsolutePath();
      if (Files.isDirectory(p)) {
        classDirs.add(p.toString());
      } else if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        jars.add(p.toString());
        // Numbered: two artifacts may share a file name.
        Files.createSymbolicLink(
            jarsDir.resolve(String.format("%04d-%s", i++, p.getFileName())), p);
      }
    }
  }

  private void launch(Path log, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx256m"));
    cmd.addAll(javaOptions());
    cmd.add("-cp");
    cmd.add(home.resolve("jars") + File.separator + "*");
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    start(cmd, log);
  }

  private Process start(List<String> cmd, Path log) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", home.toString());
    env.put("SPARK_SCALA_VERSION", "2.12");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
    env.remove("SPARK_CONF_DIR");
    Process p = pb.start();
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  private Matcher await(Path log, Pattern line, long deadline)
      throws IOException, InterruptedException {
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)) {
        Matcher m = line.matcher(Files.readString(log, StandardCharsets.UTF_8));
        if (m.find()) {
          return m;
        }
      }
      synchronized (processes) {
        for (Process p : processes) {
          if (!p.isAlive()) {
            throw new IllegalStateException(
                "a cluster process exited with "
                    + p.exitValue()
                    + "; "
                    + log.getFileName()
                    + ":\n"
                    + tail(log));
          }
        }
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("no '" + line + "' in " + log + " in time:\n" + tail(log));
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Stops executors, workers and the master (newest first), forcibly after a grace period. */
  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs stopAll anyway
    }
  }

  private void stopAll() {
    List<Process> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
      processes.clear();
    }
    List<ProcessHandle> handles = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      ProcessHandle h = all.get(i).toHandle();
      h.descendants().forEach(handles::add); // executors, launched by workers
      handles.add(h);
    }
    handles.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (ProcessHandle h : handles) {
      try {
        h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
  }
}
