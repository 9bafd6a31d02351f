package dev.graft.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Facts about the executor JVM a task runs in, and the settings Graft makes there once: how many
 * tasks run at the same time (so how many network copies to keep), how many native threads each
 * forward pass may use, where a file named in a parameter is found, how image paths are read.
 */
final class ExecutorJvm {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorJvm.class);
  private static final AtomicBoolean THREADS_SIZED = new AtomicBoolean();

  private ExecutorJvm() {}

  /** Tasks this JVM runs at the same time: executor cores / {@code spark.task.cpus}. */
  static int slots() {
    SparkEnv env = SparkEnv.get();
    int cores = Runtime.getRuntime().availableProcessors();
    if (env == null) {
      return cores;
    }
    SparkConf conf = env.conf();
    int taskCpus = Math.max(1, conf.getInt("spark.task.cpus", 1));
    int executorCores = conf.getInt("spark.executor.cores", cores);
    return Math.max(1, executorCores / taskCpus);
  }

  /**
   * On a cluster executor (not in the driver JVM, which local mode shares with the user's own
   * code), caps ND4J's and OpenBLAS's threads per operation at {@code spark.task.cpus}, once per
   * JVM: the executor already runs one task per core, and each task's forward pass spreading over
   * every core would oversubscribe them.
   */
  static void sizeThreads() {
    SparkEnv env = SparkEnv.get();
    if (env == null
        || "driver".equals(env.executorId())
        || !THREADS_SIZED.compareAndSet(false, true)) {
      return;
    }
    int threads = Math.max(1, env.conf().getInt("spark.task.cpus", 1));
    var nd4j = Nd4j.getEnvironment();
    nd4j.setMaxThreads(threads);
    nd4j.setMaxMasterThreads(threads);
    Nd4j.factory().blas().setMaxThreads(threads);
    LOG.info(
        "executor {}: {} task slot(s), {} native thread(s) per forward pass",
        env.executorId(),
        slots(),
        threads);
  }

  /**
   * The local file a parameter names: the path itself when it exists here, else a file of that name
   * distributed with {@code SparkContext.addFile} / {@code spark-submit --files}, else the path as
   * given (whose loading then fails naming it).
   */
  static Path localFile(String name) {
    Path p = Path.of(name);
    if (Files.exists(p)) {
      return p;
    }
    if (SparkEnv.get() != null && p.getFileName() != null) {
      try {
        Path shipped = Path.of(SparkFiles.get(p.getFileName().toString()));
        if (Files.exists(shipped)) {
          return shipped;
        }
      } catch (RuntimeException e) {
        LOG.debug("no SparkFiles copy of {}: {}", name, e.toString());
      }
    }
    return p;
  }

  /** Size and modification time of a file (part of a cache key), or an empty list if absent. */
  static List<Long> stamp(Path file) {
    try {
      return List.of(Files.size(file), Files.getLastModifiedTime(file).toMillis());
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * The bytes of an image named by a path column: a local path or {@code file:} URI directly, any
   * other URI ({@code hdfs:}, {@code s3a:}, ...) through Hadoop's file systems.
   */
  static byte[] read(String path) throws IOException {
    URI uri = uri(path);
    String scheme =
        uri == null || uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme == null || scheme.length() == 1) { // no scheme, or a Windows drive letter
      return Files.readAllBytes(Path.of(path));
    }
    if (scheme.equals("file")) {
      return Files.readAllBytes(Path.of(uri));
    }
    org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(uri);
    org.apache.hadoop.conf.Configuration conf =
        SparkEnv.get() != null
            ? org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf())
            : new org.apache.hadoop.conf.Configuration();
    try (InputStream in = hp.getFileSystem(conf).open(hp)) {
      return in.readAllBytes();
    }
  }

  private static URI uri(String path) {
    try {
      return new URI(path);
    } catch (java.net.URISyntaxException e) {
      return null; // a plain local path with characters a URI does not allow
    }
  }
}
