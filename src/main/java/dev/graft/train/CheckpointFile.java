package dev.graft.train;

import dev.graft.error.GraftException;
import dev.graft.io.AtomicFiles;
import dev.graft.io.JsonGuard;
import dev.graft.io.Limits;
import dev.graft.io.SafeZip;
import dev.graft.io.Sha256;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.Monitor;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * The checkpoint file: one zip, written through {@link AtomicFiles} (a kill at any moment leaves
 * the previous checkpoint or the new one), read like every file Graft is handed (through {@link
 * SafeZip}: vetted entries, bounded sizes, plain JSON; no Java object is ever deserialized).
 *
 * <ul>
 *   <li>{@code arrays.bin}: the arrays back to back, little-endian, each as {@code checkpoint.json}
 *       lists it (group, layer, parameter, data type, shape);
 *   <li>{@code data.tsv}: the fingerprint's image lines, {@code T} (training) or {@code V}
 *       (validation), a tab, the line;
 *   <li>{@code checkpoint.json}: format version, the fingerprint's settings, the loop's counters
 *       and generator states, the history, the array list and the SHA-256 of {@code arrays.bin} (a
 *       damaged file is refused, never half-used).
 * </ul>
 *
 * <p>Why one class of this size: the writer and the reader are two halves of one file format, and
 * the reader's refusals (sizes, shapes, counters, digest, each with its own message) must match
 * what the writer writes field by field.
 */
final class CheckpointFile {
  static final int FORMAT_VERSION = 1;
  static final String INFO = "checkpoint.json";
  static final String ARRAYS = "arrays.bin";
  static final String DATA = "data.tsv";
  private static final ObjectMapper JSON = new ObjectMapper();

  private CheckpointFile() {}

  /** A checkpoint read back. */
  record Contents(Fingerprint fingerprint, TrainingState state) {}

  /** One array of the state, with where it belongs. */
  private record Named(String group, String layer, String param, INDArray array) {}

  /**
   * A checkpoint taken from the state at one moment, ready to write: the arrays it holds (nothing
   * writes to them any more) and its description, so that the writing can happen on another thread
   * while training goes on.
   */
  static final class Prepared {
    private final Fingerprint fingerprint;
    private final List<Named> arrays;
    private final ObjectNode info;

    private Prepared(Fingerprint fingerprint, List<Named> arrays, ObjectNode info) {
      this.fingerprint = fingerprint;
      this.arrays = arrays;
      this.info = info;
    }
  }

  /**
   * Takes what a checkpoint of {@code st} holds: its arrays (the state's own: the caller hands over
   * arrays nobody changes afterwards) and, serialised now, every other field.
   */
  static Prepared prepare(Fingerprint fp, TrainingState st) {
    List<Named> arrays = arrays(st);
    return new Prepared(fp, arrays, info(fp, st, arrays));
  }

  /** Writes {@code state} atomically; {@code beforeMove} runs when the new file is on disk. */
  static void write(Path file, Fingerprint fp, TrainingState st, Runnable beforeMove)
      throws IOException {
    write(file, prepare(fp, st), beforeMove);
  }

  /** Writes a prepared checkpoint atomically; {@code beforeMove} runs when it is on disk. */
  static void write(Path file, Prepared p, Runnable beforeMove) throws IOException {
    AtomicFiles.write(
        file,
        ch -> {
          ZipOutputStream zip =
              new ZipOutputStream(
                  new BufferedOutputStream(
                      java.nio.channels.Channels.newOutputStream(ch), 1 << 16));
          zip.setLevel(Deflater.NO_COMPRESSION); // floats barely compress; speed matters more
          zip.putNextEntry(new ZipEntry(ARRAYS));
          MessageDigest md = Sha256.digest();
          long bytes = 0;
          for (Named n : p.arrays) {
            bytes += ArrayCodec.write(n.array(), zip, md);
          }
          zip.closeEntry();
          zip.setLevel(Deflater.DEFAULT_COMPRESSION);
          zip.putNextEntry(new ZipEntry(DATA));
          StringBuilder data = new StringBuilder();
          p.fingerprint.training().forEach(l -> data.append("T\t").append(l).append('\n'));
          p.fingerprint.validation().forEach(l -> data.append("V\t").append(l).append('\n'));
          zip.write(data.toString().getBytes(StandardCharsets.UTF_8));
          zip.closeEntry();
          zip.putNextEntry(new ZipEntry(INFO));
          ObjectNode info = p.info.deepCopy();
          info.put("arraysBytes", bytes);
          info.put("arraysSha256", HexFormat.of().formatHex(md.digest()));
          zip.write(JSON.writeValueAsBytes(info));
          zip.closeEntry();
          zip.finish();
          zip.flush();
        },
        beforeMove);
  }

  private static List<Named> arrays(TrainingState st) {
    List<Named> out = new ArrayList<>();
    addGroup(out, "current", st.current);
    addGroup(out, "best", st.best);
    if (st.updaterState != null) {
      out.add(new Named("updater", "", "", st.updaterState));
    }
    if (st.bestLabels != null) {
      out.add(new Named("bestLabels", "", "", st.bestLabels));
      out.add(new Named("bestProbabilities", "", "", st.bestProbabilities));
    }
    return out;
  }

  private static void addGroup(
      List<Named> out, String group, Map<String, Map<String, INDArray>> params) {
    if (params == null) {
      return;
    }
    params.forEach((layer, ps) -> ps.forEach((p, a) -> out.add(new Named(group, layer, p, a))));
  }

  /** The description of a checkpoint; the arrays' byte count and digest are added on writing. */
  private static ObjectNode info(Fingerprint fp, TrainingState st, List<Named> arrays) {
    ObjectNode root = JSON.createObjectNode();
    root.put("formatVersion", FORMAT_VERSION);
    ObjectNode settings = root.putObject("settings");
    fp.settings().forEach(settings::put);
    ObjectNode s = root.putObject("state");
    s.put("epoch", st.epoch);
    s.put("phaseIndex", st.phaseIndex);
    s.put("epochsInPhase", st.epochsInPhase);
    s.put("sinceBest", st.sinceBest);
    s.put("bestEpoch", st.bestEpoch);
    s.put("bestValueBits", Double.doubleToRawLongBits(st.bestValue));
    s.put("stoppedEarly", st.stoppedEarly);
    s.put("seconds", st.seconds);
    s.put("shuffleState", st.shuffleState);
    s.put("nd4jRootState", st.nd4jRootState);
    s.put("nd4jNodeState", st.nd4jNodeState);
    s.put("iterationCount", st.iterationCount);
    s.put("epochCount", st.epochCount);
    s.put("trainIteratorEpoch", st.trainIteratorEpoch);
    root.put("monitor", st.history.monitor().name());
    ArrayNode h = root.putArray("history");
    for (EpochRecord r : st.history.epochs()) {
      ArrayNode e = h.addArray();
      e.add(r.epoch());
      for (double d :
          new double[] {
            r.trainLoss(),
            r.trainAccuracy(),
            r.validationLoss(),
            r.validationAccuracy(),
            r.learningRate(),
            r.seconds()
          }) {
        e.add(Double.doubleToRawLongBits(d)); // exact, NaN included
      }
    }
    ArrayNode list = root.putArray("arrays");
    for (Named n : arrays) {
      ObjectNode o = list.addObject();
      o.put("group", n.group());
      o.put("layer", n.layer());
      o.put("param", n.param());
      o.put("dataType", n.array().dataType().name());
      ArrayNode shape = o.putArray("shape");
      for (long d : n.array().shape()) {
        shape.add(d);
      }
    }
    return root;
  }

  /**
   * Reads a checkpoint, refusing (with {@link GraftException}, naming the file and what is wrong)
   * anything damaged, truncated, oversized or of another format.
   */
  static Contents read(Path file) throws IOException {
    Limits limits = Limits.defaults();
    try (SafeZip zip = SafeZip.open(file, file, "", Set.of(INFO, ARRAYS, DATA), limits)) {
      for (String e : List.of(INFO, ARRAYS, DATA)) {
        if (!zip.has(e)) {
          throw damaged(file, "entry '" + e + "' is missing");
        }
      }
      JsonNode root = JsonGuard.parse(zip.readAll(INFO, limits.maxInfoBytes()), file, INFO, limits);
      try {
        return parse(file, root, zip, limits);
      } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
        throw damaged(file, "entry '" + INFO + "' is malformed: " + e.getMessage());
      }
    } catch (GraftException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("checkpoint ")) {
        throw e;
      }
      throw damaged(file, e.getMessage());
    }
  }

  private static GraftException damaged(Path file, String why) {
    return new GraftException(
        "checkpoint "
            + file
            + " is damaged or not a Graft checkpoint: "
            + why
            + " (delete it to start afresh)");
  }

  private static Contents parse(Path file, JsonNode root, SafeZip zip, Limits limits)
      throws IOException {
    int format = integer(root, "formatVersion");
    if (format != FORMAT_VERSION) {
      throw damaged(
          file,
          "format " + format + ", this Graft reads format " + FORMAT_VERSION + " checkpoints");
    }
    Map<String, String> settings = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = field(root, "settings").fields();
        it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isTextual()) {
        throw new IllegalArgumentException("settings." + e.getKey() + " is not a string");
      }
      settings.put(e.getKey(), e.getValue().asText());
    }
    List<String> train = new ArrayList<>();
    List<String> val = new ArrayList<>();
    String data = JsonGuard.utf8(zip.readAll(DATA, limits.maxInfoBytes() * 16), file, DATA);
    for (String line : data.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("T\t")) {
        train.add(line.substring(2));
      } else if (line.startsWith("V\t")) {
        val.add(line.substring(2));
      } else {
        throw damaged(file, "entry '" + DATA + "' has a line that is neither T nor V");
      }
    }
    Monitor monitor = Monitor.valueOf(field(root, "monitor").asText());
    TrainingState st = new TrainingState(monitor);
    JsonNode s = field(root, "state");
    st.epoch = integer(s, "epoch");
    st.phaseIndex = integer(s, "phaseIndex");
    st.epochsInPhase = integer(s, "epochsInPhase");
    st.sinceBest = integer(s, "sinceBest");
    st.bestEpoch = integer(s, "bestEpoch");
    st.bestValue = Double.longBitsToDouble(longValue(s, "bestValueBits"));
    st.stoppedEarly = field(s, "stoppedEarly").asBoolean();
    st.seconds = field(s, "seconds").asDouble();
    st.shuffleState = longValue(s, "shuffleState");
    st.nd4jRootState = longValue(s, "nd4jRootState");
    st.nd4jNodeState = longValue(s, "nd4jNodeState");
    st.iterationCount = integer(s, "iterationCount");
    st.epochCount = integer(s, "epochCount");
    st.trainIteratorEpoch = integer(s, "trainIteratorEpoch");
    if (st.epoch < 0 || st.epochsInPhase < 0 || st.phaseIndex < -1) {
      throw new IllegalArgumentException("negative epoch counters");
    }
    for (JsonNode e : field(root, "history")) {
      if (!e.isArray() || e.size() != 7) {
        throw new IllegalArgumentException("history entries must be arrays of 7 numbers");
      }
      double[] d = new double[6];
      for (int i = 0; i < 6; i++) {
        d[i] = Double.longBitsToDouble(e.get(i + 1).asLong());
      }
      st.history.add(new EpochRecord(e.get(0).asInt(), d[0], d[1], d[2], d[3], d[4], d[5]));
    }
    readArrays(file, root, zip, limits, st);
    return new Contents(new Fingerprint(settings, train, val), st);
  }

  private static void readArrays(
      Path file, JsonNode root, SafeZip zip, Limits limits, TrainingState st) throws IOException {
    long declared = longValue(root, "arraysBytes");
    String sha = field(root, "arraysSha256").asText();
    long total = 0;
    List<long[]> shapes = new ArrayList<>();
    List<DataType> types = new ArrayList<>();
    JsonNode list = field(root, "arrays");
    for (JsonNode a : list) {
      DataType t = DataType.valueOf(field(a, "dataType").asText());
      if (t != DataType.FLOAT && t != DataType.DOUBLE) {
        throw new IllegalArgumentException("array data type " + t);
      }
      JsonNode sh = field(a, "shape");
      long[] shape = new long[sh.size()];
      long n = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = sh.get(i).asLong();
        if (shape[i] < 0 || shape[i] > limits.maxParameters()) {
          throw new IllegalArgumentException("array shape " + sh);
        }
        n = Math.multiplyExact(n, Math.max(shape[i], 1));
      }
      if (n > limits.maxParameters()) {
        throw new IllegalArgumentException("an array of " + n + " values is over the limit");
      }
      shapes.add(shape);
      types.add(t);
      total = Math.addExact(total, n * t.width());
    }
    if (total != declared) {
      throw damaged(
          file, "the array list needs " + total + " bytes, the file declares " + declared);
    }
    // The arrays are stored uncompressed: a list larger than the file is a lie, refused before
    // anything is allocated (a 1 MB file had listed a 2-billion-value array).
    if (declared > Files.size(file)) {
      throw damaged(
          file, "its arrays need " + declared + " bytes, more than the file's " + Files.size(file));
    }
    MessageDigest md = Sha256.digest();
    List<INDArray> arrays = new ArrayList<>();
    try (InputStream in = zip.open(ARRAYS, declared)) {
      for (int i = 0; i < shapes.size(); i++) {
        INDArray a = ArrayCodec.read(in, md, shapes.get(i), types.get(i));
        if (a == null) {
          throw damaged(file, "entry '" + ARRAYS + "' ends early");
        }
        arrays.add(a);
      }
      if (in.read() >= 0) {
        throw damaged(file, "entry '" + ARRAYS + "' is longer than its list");
      }
    }
    if (!HexFormat.of().formatHex(md.digest()).equalsIgnoreCase(sha)) {
      throw damaged(file, "entry '" + ARRAYS + "' does not match its SHA-256");
    }
    int i = 0;
    for (JsonNode a : list) {
      String group = field(a, "group").asText();
      String layer = field(a, "layer").asText();
      String param = field(a, "param").asText();
      INDArray arr = arrays.get(i++);
      switch (group) {
        case "current" -> put(st.current = orNew(st.current), layer, param, arr);
        case "best" -> put(st.best = orNew(st.best), layer, param, arr);
        case "updater" -> st.updaterState = arr;
        case "bestLabels" -> st.bestLabels = arr;
        case "bestProbabilities" -> st.bestProbabilities = arr;
        default -> throw new IllegalArgumentException("unknown array group '" + group + "'");
      }
    }
    if (st.current == null) {
      throw damaged(file, "it holds no parameters");
    }
  }

  private static Map<String, Map<String, INDArray>> orNew(Map<String, Map<String, INDArray>> m) {
    return m == null ? new LinkedHashMap<>() : m;
  }

  private static void put(
      Map<String, Map<String, INDArray>> m, String layer, String param, INDArray a) {
    m.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(param, a);
  }

  private static JsonNode field(JsonNode n, String name) {
    JsonNode v = n.get(name);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing field '" + name + "'");
    }
    return v;
  }

  private static int integer(JsonNode n, String name) {
    JsonNode v = field(n, name);
    if (!v.canConvertToInt() || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("field '" + name + "' must be an integer");
    }
    if (v.asInt() < -1) { // counters start at 0, or -1 for "none yet"
      throw new IllegalArgumentException("field '" + name + "' is negative: " + v.asInt());
    }
    return v.asInt();
  }

  private static long longValue(JsonNode n, String name) {
    JsonNode v = field(n, name);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException("field '" + name + "' must be an integer");
    }
    return v.asLong();
  }

  /** Whether a checkpoint file exists at {@code file}. */
  static boolean exists(Path file) {
    return Files.isRegularFile(file);
  }
}
