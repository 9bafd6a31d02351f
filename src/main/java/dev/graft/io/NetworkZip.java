package dev.graft.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UTFDataFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one reader of DL4J network zips (as {@code ModelSerializer} writes them) for every network
 * Graft opens: the network inside a {@code .graft} file, a DL4J zip given as a base or as weights,
 * and the zoo's ImageNet files. It never calls {@code ModelSerializer}, which deserializes a {@code
 * preprocessor.bin} entry with {@code ObjectInputStream} and reads every entry fully into memory.
 * Instead:
 *
 * <ol>
 *   <li>the entry list is vetted ({@link SafeZip}): only {@code configuration.json}, {@code
 *       coefficients.bin}, {@code noParams.marker} and {@code updaterState.bin} (accepted, never
 *       read) may be present; anything else ({@code preprocessor.bin}, {@code normalizer.bin},
 *       {@code objects/...}) is refused by name before any entry is read;
 *   <li>{@code configuration.json} (at most {@link Limits#maxConfigBytes()}) is parsed as a plain
 *       JSON tree and every class name in it checked by {@link ClassAllowlist}; only then does DL4J
 *       parse it;
 *   <li>the parameter count is computed from the parsed configuration (at most {@link
 *       Limits#maxParameters()}, and no more than the off-heap memory left); {@code
 *       coefficients.bin} must declare exactly that many values of a floating-point type, in a
 *       header Graft reads itself, before ND4J allocates anything; the entry is read through a
 *       counting stream capped at the bytes those values need and must end there;
 *   <li>the network is built from the vetted configuration and parameters, as {@code
 *       ModelSerializer} would ({@code init(params, false)}).
 * </ol>
 *
 * Whatever is wrong, the result is a {@link RefusedFileException} naming the file and the entry:
 * never an {@code OutOfMemoryError}, never a hang, never code from the file.
 *
 * <pre>{@code
 * ComputationGraph graph = NetworkZip.read(Path.of("my-base.zip"));
 * }</pre>
 *
 * <p>Why one class of this size: every check between the zip's bytes and a built network (entries,
 * configuration JSON, class allowlist, parameter header and count) must run in one order, before
 * any allocation the file could inflate; split up, a later check could be skipped.
 */
public final class NetworkZip {
  /** The network's configuration (JSON). */
  public static final String CONFIGURATION = "configuration.json";

  /** The flattened parameters (ND4J binary). */
  public static final String COEFFICIENTS = "coefficients.bin";

  /** Marks a network without parameters. */
  public static final String NO_PARAMS = "noParams.marker";

  /** The updater state, present when saved with it; accepted but never read. */
  public static final String UPDATER = "updaterState.bin";

  private static final Set<String> ENTRIES =
      Set.of(CONFIGURATION, COEFFICIENTS, NO_PARAMS, UPDATER);

  /** Room for the two ND4J buffer headers and a rank-32 shape. */
  private static final long HEADER_BYTES = 2 * (2 + 20 + 8 + 2 + 10) + (2 * 32 + 4) * 8;

  private static final int MAX_RANK = 32;
  private static final Logger LOG = LoggerFactory.getLogger(NetworkZip.class);

  private NetworkZip() {}

  /** Reads the network in a DL4J zip, with {@link Limits#defaults()}. */
  public static ComputationGraph read(Path zip) throws IOException {
    return read(zip, zip, "", Limits.defaults());
  }

  /**
   * Reads the network (a ComputationGraph, or a MultiLayerNetwork turned into one) in a DL4J zip.
   *
   * @param zip the zip on disk
   * @param shownAs the file named in errors (the zip, or the {@code .graft} it came from)
   * @param prefix put before entry names in errors ({@code "network.zip/"}), or empty
   * @throws RefusedFileException naming the file and entry at fault
   * @throws java.nio.file.NoSuchFileException if there is no such file
   */
  public static ComputationGraph read(Path zip, Path shownAs, String prefix, Limits limits)
      throws IOException {
    long start = System.nanoTime();
    try (SafeZip z = SafeZip.open(zip, shownAs, prefix, ENTRIES, limits)) {
      String cfgEntry = z.shownName(CONFIGURATION);
      if (!z.has(CONFIGURATION)) {
        throw new RefusedFileException(shownAs, cfgEntry, "missing (not a DL4J model zip)");
      }
      byte[] bytes = z.readAll(CONFIGURATION, limits.maxConfigBytes());
      JsonNode tree = JsonGuard.parse(bytes, shownAs, cfgEntry, limits);
      ClassAllowlist.check(tree, shownAs, cfgEntry);
      String json = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
      ComputationGraph graph;
      if (tree.has("vertices")) {
        graph =
            network(
                () -> ComputationGraphConfiguration.fromJson(json),
                conf -> {
                  long sum = 0;
                  for (GraphVertex v : conf.getVertices().values()) {
                    sum += v.numParams(true);
                  }
                  return sum;
                },
                (conf, params) -> {
                  if (params != null) {
                    conf.setDataType(params.dataType());
                  }
                  ComputationGraph g = new ComputationGraph(conf);
                  g.init(params, false);
                  return g;
                },
                z,
                limits);
      } else if (tree.has("confs")) {
        graph =
            network(
                () -> MultiLayerConfiguration.fromJson(json),
                conf -> {
                  long sum = 0;
                  for (NeuralNetConfiguration c : conf.getConfs()) {
                    sum += c.getLayer().initializer().numParams(c);
                  }
                  return sum;
                },
                (conf, params) -> {
                  if (params != null) {
                    conf.setDataType(params.dataType());
                  }
                  MultiLayerNetwork net = new MultiLayerNetwork(conf);
                  net.init(params, false);
                  return net.toComputationGraph();
                },
                z,
                limits);
      } else {
        throw new RefusedFileException(
            shownAs, cfgEntry, "not a DL4J network configuration (neither 'vertices' nor 'confs')");
      }
      LOG.debug(
          "Read {} ({} params) in {} ms",
          shownAs,
          graph.numParams(),
          (System.nanoTime() - start) / 1_000_000);
      return graph;
    }
  }

  /** The parameters: exactly {@code n} floating-point values, or null for a network without. */
  private static INDArray readParams(SafeZip z, long n, Limits limits) throws IOException {
    Path file = z.shownFile();
    String entry = z.shownName(COEFFICIENTS);
    if (n > limits.maxParameters()) {
      throw new RefusedFileException(
          file,
          z.shownName(CONFIGURATION),
          "declares "
              + n
              + " parameters, more than the "
              + limits.maxParameters()
              + " allowed"
              + " (graft.limits.maxParameters)");
    }
    if (n == 0) {
      if (z.has(COEFFICIENTS) && z.declaredSize(COEFFICIENTS) > 0) {
        throw new RefusedFileException(
            file, entry, "present, but the configuration has no parameters");
      }
      return null;
    }
    if (!z.has(COEFFICIENTS)) {
      throw new RefusedFileException(
          file, entry, "missing (the configuration has " + n + " parameters)");
    }
    long cap = n * 8 + HEADER_BYTES;
    try (InputStream raw = z.open(COEFFICIENTS, cap)) {
      DataInputStream in = new DataInputStream(raw);
      ByteArrayOutputStream headerBytes = new ByteArrayOutputStream();
      DataOutputStream header = new DataOutputStream(headerBytes);
      // The shape buffer: small, of LONG (or legacy INT) values.
      Header shapeHeader = readHeader(in, header, file, entry);
      if (shapeHeader.type != DataType.LONG && shapeHeader.type != DataType.INT) {
        throw new RefusedFileException(file, entry, "shape buffer of type " + shapeHeader.type);
      }
      if (shapeHeader.length < 4 || shapeHeader.length > 2 * MAX_RANK + 4) {
        throw new RefusedFileException(
            file,
            entry,
            "shape buffer of " + shapeHeader.length + " values; not an ND4J array header");
      }
      long[] shapeInfo = new long[(int) shapeHeader.length];
      for (int i = 0; i < shapeInfo.length; i++) {
        shapeInfo[i] = shapeHeader.type == DataType.LONG ? in.readLong() : in.readInt();
        if (shapeHeader.type == DataType.LONG) {
          header.writeLong(shapeInfo[i]);
        } else {
          header.writeInt((int) shapeInfo[i]);
        }
      }
      long rank = shapeInfo[0];
      if (rank < 1 || rank > 2 || shapeInfo.length != 2 * rank + 4) {
        throw new RefusedFileException(
            file, entry, "an array of rank " + rank + "; parameters are a vector");
      }
      long product = 1;
      for (int i = 1; i <= rank; i++) {
        if (shapeInfo[i] < 0 || shapeInfo[i] > n) {
          throw new RefusedFileException(file, entry, "bad shape dimension " + shapeInfo[i]);
        }
        product *= shapeInfo[i];
      }
      Header data = readHeader(in, header, file, entry);
      if (product != n || data.length != n) {
        throw new RefusedFileException(
            file,
            entry,
            "holds "
                + data.length
                + " values (shape product "
                + product
                + ") but the configuration's layers have "
                + n
                + " parameters");
      }
      int size =
          switch (data.type) {
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case HALF, BFLOAT16 -> 2;
            default ->
                throw new RefusedFileException(
                    file, entry, "values of type " + data.type + "; parameters are floating point");
          };
      long bytes = n * size;
      requireMemory(bytes, file, entry);
      long declared = z.declaredSize(COEFFICIENTS);
      long expected = headerBytes.size() + bytes;
      if (declared >= 0 && declared != expected) {
        throw new RefusedFileException(
            file,
            entry,
            "declares "
                + declared
                + " bytes but "
                + n
                + " "
                + data.type
                + " parameters and their header take "
                + expected);
      }
      char order = (char) shapeInfo[shapeInfo.length - 1];
      if (data.type == DataType.FLOAT && bytes <= Integer.MAX_VALUE && "cf".indexOf(order) >= 0) {
        INDArray params =
            Nd4j.createUninitialized(
                DataType.FLOAT, Arrays.copyOfRange(shapeInfo, 1, (int) rank + 1), order);
        readBigEndianFloats(in, params.data().asNio(), n);
        if (raw.read() != -1) {
          throw new RefusedFileException(
              file, entry, "longer than the " + n + " parameters need; refused");
        }
        return params;
      }
      header.flush();
      // Buffered: ND4J reads the values one readFloat() at a time, which on the bare inflating
      // stream is four single-byte reads each (a ResNet50 model took 12 s to read, 0.7 s now).
      InputStream replay =
          new BufferedInputStream(
              new SequenceInputStream(new ByteArrayInputStream(headerBytes.toByteArray()), raw),
              1 << 16);
      INDArray params;
      try {
        params = Nd4j.read(new DataInputStream(replay));
      } catch (RuntimeException e) {
        throw refusal(e, file, entry, "truncated or damaged");
      }
      if (replay.read() != -1) {
        throw new RefusedFileException(
            file, entry, "longer than the " + n + " parameters need; refused");
      }
      return params;
    } catch (EOFException | UTFDataFormatException e) {
      throw new RefusedFileException(file, entry, "truncated or damaged (" + e + ")", e);
    }
  }

  /**
   * Reads {@code n} big-endian floats (as {@code DataOutputStream} writes them) into native memory.
   * ND4J's own reader puts them one boxed value at a time: 2-3 s for a ResNet50, against a tenth of
   * that here.
   */
  private static void readBigEndianFloats(DataInputStream in, ByteBuffer target, long n)
      throws IOException {
    FloatBuffer out = target.order(ByteOrder.nativeOrder()).asFloatBuffer();
    byte[] chunk = new byte[1 << 16];
    ByteBuffer wrapped = ByteBuffer.wrap(chunk).order(ByteOrder.BIG_ENDIAN);
    long left = n * Float.BYTES;
    while (left > 0) {
      int len = (int) Math.min(chunk.length, left);
      in.readFully(chunk, 0, len);
      wrapped.clear().limit(len);
      out.put(wrapped.asFloatBuffer());
      left -= len;
    }
  }

  private record Header(DataBuffer.AllocationMode mode, long length, DataType type) {}

  /** One ND4J buffer header, read here and written back to {@code copy} for the replay. */
  private static Header readHeader(
      DataInputStream in, DataOutputStream copy, Path file, String entry) throws IOException {
    String modeName = in.readUTF();
    DataBuffer.AllocationMode mode;
    try {
      mode = DataBuffer.AllocationMode.valueOf(modeName);
    } catch (IllegalArgumentException e) {
      throw new RefusedFileException(
          file, entry, "not an ND4J array (allocation mode '" + shorten(modeName) + "')");
    }
    copy.writeUTF(modeName);
    long length;
    if (mode.ordinal() < 3) {
      length = in.readInt();
      copy.writeInt((int) length);
    } else {
      length = in.readLong();
      copy.writeLong(length);
    }
    String typeName = in.readUTF();
    DataType type;
    try {
      type = DataType.valueOf(typeName);
    } catch (IllegalArgumentException e) {
      throw new RefusedFileException(
          file, entry, "not an ND4J array (data type '" + shorten(typeName) + "')");
    }
    copy.writeUTF(typeName);
    if (length < 0) {
      throw new RefusedFileException(file, entry, "negative array length " + length);
    }
    return new Header(mode, length, type);
  }

  /** Refuses parameters that would not fit in the off-heap memory JavaCPP may still allocate. */
  private static void requireMemory(long bytes, Path file, String entry) {
    long left = LayerSizes.offHeapLeft();
    if (bytes > left) {
      throw new RefusedFileException(
          file,
          entry,
          "the parameters need "
              + (bytes >> 20)
              + " MiB but only "
              + (left >> 20)
              + " MiB of off-heap memory is left"
              + " (raise -Dorg.bytedeco.javacpp.maxbytes / maxphysicalbytes)");
    }
  }

  private static String shorten(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  /** A RefusedFileException from the cause chain, or a new one saying {@code what}. */
  private static RefusedFileException refusal(Throwable e, Path file, String entry, String what) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof RefusedFileException r) {
        return r;
      }
    }
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    msg = msg.lines().findFirst().orElse("");
    return new RefusedFileException(file, entry, what + " (" + shorten200(msg) + ")", e);
  }

  private static String shorten200(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  private interface Step<T> {
    T get();
  }

  /**
   * Parses the (allowlisted) configuration with DL4J, counts its parameters, reads exactly that
   * many and builds the network; every failure is a refusal naming the entry.
   */
  private static <C> ComputationGraph network(
      Step<C> parse,
      java.util.function.ToLongFunction<C> count,
      java.util.function.BiFunction<C, INDArray, ComputationGraph> build,
      SafeZip z,
      Limits limits)
      throws IOException {
    Path file = z.shownFile();
    String entry = z.shownName(CONFIGURATION);
    C conf;
    try {
      conf = parse.get();
    } catch (RuntimeException | StackOverflowError e) {
      throw refusal(e, file, entry, "not a valid DL4J configuration");
    }
    LayerSizes.checkLayers(conf, file, entry, limits);
    long n;
    try {
      n = count.applyAsLong(conf);
    } catch (RuntimeException e) {
      throw refusal(e, file, entry, "cannot count the parameters it declares");
    }
    if (n < 0) {
      throw new RefusedFileException(file, entry, "declares a negative parameter count");
    }
    INDArray params = readParams(z, n, limits);
    try {
      return build.apply(conf, params);
    } catch (RuntimeException e) {
      throw refusal(e, file, entry, "the network cannot be built from it");
    }
  }
}
