package dev.graft.model;

import dev.graft.base.ChannelOrder;
import dev.graft.base.Interpolation;
import dev.graft.base.Preprocessing;
import dev.graft.data.ResizeMode;
import dev.graft.io.AtomicFiles;
import dev.graft.io.JsonGuard;
import dev.graft.io.LayerSizes;
import dev.graft.io.Limits;
import dev.graft.io.NetworkZip;
import dev.graft.io.RefusedFileException;
import dev.graft.io.SafeZip;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/**
 * The {@code .graft} file format: one zip with
 *
 * <ul>
 *   <li>{@code graft.json}: {@code formatVersion}, {@code graftVersion} and the {@link ModelInfo}
 *       (labels, base, weights key, preprocessing, input size, resize mode, strategy, settings,
 *       metrics, per-epoch history, creation time), always the first entry;
 *   <li>{@code network.zip}: the DL4J {@code ComputationGraph}, as {@code ModelSerializer} writes
 *       it (without updater state);
 *   <li>{@code labels.txt} and {@code history.csv}: the same labels and history, for people and
 *       spreadsheets (checked on reading: labels equal to {@code graft.json}'s, history numeric).
 * </ul>
 *
 * Files are written through {@link AtomicFiles}: to a temporary name in the target directory,
 * flushed to disk, then moved into place atomically, so a reader never sees a half-written model
 * and an interrupted write leaves no orphan behind for long. Reading treats the file as untrusted
 * data (see {@link #read(Path)} and {@code docs/security.md}): it checks the zip, the entries and
 * their sizes, every field's type, the format version and that the network's output size matches
 * the labels, and throws {@link ModelFileException} (a malformed file) or {@link
 * RefusedFileException} (an unsafe or oversized one) naming the file and the entry.
 *
 * <p>Why one class of this size: writing and reading the format belong together so that they cannot
 * drift apart; most of the reading side is the validation of untrusted fields.
 */
public final class ModelFile {
  /** The format this Graft writes; files with a larger number are refused. */
  public static final int FORMAT_VERSION = 1;

  /** Entry holding the JSON description. */
  public static final String INFO_ENTRY = "graft.json";

  /** Entry holding the DL4J network. */
  public static final String NETWORK_ENTRY = "network.zip";

  /** Human-readable labels, one per line. */
  public static final String LABELS_ENTRY = "labels.txt";

  /** Human-readable per-epoch history. */
  public static final String HISTORY_ENTRY = "history.csv";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ModelFile() {}

  /**
   * Writes {@code network} and {@code info} to {@code file} atomically.
   *
   * @throws IOException if the file cannot be written (the target is then left untouched)
   */
  public static void write(Path file, ComputationGraph network, ModelInfo info) throws IOException {
    byte[] infoJson = JSON.writeValueAsBytes(toJson(info));
    ByteArrayOutputStream net = new ByteArrayOutputStream();
    ModelSerializer.writeModel(network, net, false);
    AtomicFiles.write(
        file,
        ch -> {
          OutputStream raw = java.nio.channels.Channels.newOutputStream(ch);
          ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(raw, 1 << 16));
          putDeflated(zip, INFO_ENTRY, infoJson);
          putStored(zip, NETWORK_ENTRY, net.toByteArray()); // already compressed by ModelSerializer
          putDeflated(
              zip,
              LABELS_ENTRY,
              (String.join("\n", info.labels()) + "\n").getBytes(StandardCharsets.UTF_8));
          putDeflated(zip, HISTORY_ENTRY, info.history().toCsv().getBytes(StandardCharsets.UTF_8));
          zip.finish();
          zip.flush();
        });
  }

  /**
   * Reads a model file, treating it as untrusted data: the entries are vetted and bounded ({@link
   * SafeZip}), {@code graft.json} is parsed as a plain tree with typed fields, the network goes
   * through {@link NetworkZip} (nothing is deserialized with Java serialization and every class
   * name in its configuration is allowlisted), and {@code labels.txt} must agree with {@code
   * graft.json}.
   *
   * @throws NoSuchFileException if there is no such file
   * @throws ModelFileException if the file is not a valid model file (the message says why)
   * @throws RefusedFileException if the file or one of its entries is refused as unsafe or over a
   *     limit (the message names the entry)
   * @throws IOException on other I/O errors
   */
  public static TransferModel read(Path file) throws IOException {
    return read(file, Limits.defaults());
  }

  /** As {@link #read(Path)}, with explicit limits. */
  public static TransferModel read(Path file, Limits limits) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "no such model file");
    }
    if (Files.isDirectory(file)) {
      throw new ModelFileException(file, "is a directory, not a .graft model file");
    }
    try (SafeZip zip = SafeZip.open(file, file, "", ENTRIES, limits)) {
      if (!zip.has(INFO_ENTRY)) {
        throw new ModelFileException(
            file, "missing entry '" + INFO_ENTRY + "' (not a .graft model file?)");
      }
      JsonNode root =
          JsonGuard.parse(zip.readAll(INFO_ENTRY, limits.maxInfoBytes()), file, INFO_ENTRY, limits);
      if (!root.isObject()) {
        throw new ModelFileException(file, "entry '" + INFO_ENTRY + "' is not a JSON object");
      }
      JsonNode formatNode = root.get("formatVersion");
      if (formatNode == null || !formatNode.canConvertToInt() || formatNode.asInt() < 1) {
        throw new ModelFileException(file, "entry '" + INFO_ENTRY + "' has no valid formatVersion");
      }
      int format = formatNode.asInt();
      if (format > FORMAT_VERSION) {
        throw new ModelFileException(
            file,
            "written in model format "
                + format
                + " by Graft "
                + shorten(root.path("graftVersion").asText("?"))
                + "; this Graft ("
                + GraftVersion.current()
                + ") reads format "
                + FORMAT_VERSION
                + " and older: upgrade Graft");
      }
      ModelInfo info;
      try {
        info = fromJson(root, limits);
      } catch (RuntimeException e) {
        throw new ModelFileException(
            file, "entry '" + INFO_ENTRY + "' is malformed: " + e.getMessage(), e);
      }
      if (zip.has(LABELS_ENTRY)) {
        String text =
            JsonGuard.utf8(zip.readAll(LABELS_ENTRY, limits.maxInfoBytes()), file, LABELS_ENTRY);
        List<String> lines = text.lines().toList();
        if (!lines.equals(info.labels())) {
          throw new ModelFileException(
              file,
              "entry '"
                  + LABELS_ENTRY
                  + "' lists "
                  + lines.size()
                  + " labels that differ from the "
                  + info.numClasses()
                  + " in '"
                  + INFO_ENTRY
                  + "'");
        }
      }
      if (zip.has(HISTORY_ENTRY)) {
        checkHistoryCsv(
            file,
            JsonGuard.utf8(zip.readAll(HISTORY_ENTRY, limits.maxInfoBytes()), file, HISTORY_ENTRY));
      }
      if (!zip.has(NETWORK_ENTRY)) {
        throw new ModelFileException(file, "missing entry '" + NETWORK_ENTRY + "'");
      }
      ComputationGraph network = readNetwork(zip, file, limits);
      long outputs = outputSize(network);
      if (outputs > 0 && outputs != info.numClasses()) {
        throw new ModelFileException(
            file,
            "the network has "
                + outputs
                + " outputs but the file lists "
                + info.numClasses()
                + " labels");
      }
      // Before any forward pass: each layer's activations at the model's input size must fit.
      LayerSizes.checkActivations(
          network.getConfiguration(),
          InputType.convolutional(info.inputSize(), info.inputSize(), 3),
          file,
          NETWORK_ENTRY + "/" + NetworkZip.CONFIGURATION);
      return new TransferModel(network, info);
    }
  }

  /** Entries a {@code .graft} file may hold; any other is refused by name. */
  private static final Set<String> ENTRIES =
      Set.of(INFO_ENTRY, NETWORK_ENTRY, LABELS_ENTRY, HISTORY_ENTRY);

  /**
   * The network entry, copied (bounded) to a temporary file and read by {@link NetworkZip}: the
   * copy lets the reader use the zip's directory and read the configuration first.
   */
  private static ComputationGraph readNetwork(SafeZip zip, Path file, Limits limits)
      throws IOException {
    // The network entry is a zip already (ModelSerializer deflates it) and Graft stores it: it
    // does not honestly inflate to much more than the bytes it takes. Capping the copy at twice
    // those keeps a 1 MB file from writing a 1 GiB temporary file.
    long stored = zip.compressedSize(NETWORK_ENTRY);
    long cap =
        Math.min(
            limits.maxConfigBytes() + limits.maxParameters() * 8 + (1L << 20),
            Math.max(0, stored < 0 ? Files.size(file) : stored) * 2 + (1L << 20));
    Path tmp = Files.createTempFile("graft-network-", ".zip");
    tmp.toFile().deleteOnExit(); // also gone after Ctrl-C or SIGTERM during the copy
    try {
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
        zip.copy(NETWORK_ENTRY, cap, out);
      }
      return NetworkZip.read(tmp, file, NETWORK_ENTRY + "/", limits);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void checkHistoryCsv(Path file, String text) throws ModelFileException {
    List<String> lines = text.lines().toList();
    int columns = lines.isEmpty() ? 0 : lines.get(0).split(",", -1).length;
    for (int i = 1; i < lines.size(); i++) {
      String[] cells = lines.get(i).split(",", -1);
      if (cells.length != columns) {
        throw new ModelFileException(
            file,
            "entry '"
                + HISTORY_ENTRY
                + "' line "
                + (i + 1)
                + " has "
                + cells.length
                + " cells, the header "
                + columns);
      }
      for (String c : cells) {
        if (!c.isEmpty()) {
          try {
            if (c.length() > dev.graft.io.JsonGuard.MAX_NUMBER_CHARS) {
              throw new NumberFormatException("too long"); // no parse of a million digits
            }
            Double.parseDouble(c);
          } catch (NumberFormatException e) {
            throw new ModelFileException(
                file,
                "entry '"
                    + HISTORY_ENTRY
                    + "' line "
                    + (i + 1)
                    + ": not a number: '"
                    + shorten(c)
                    + "'");
          }
        }
      }
    }
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }

  /** The size of the graph's (first) output layer, or -1 if it cannot be told. */
  static long outputSize(ComputationGraph network) {
    List<String> outs = network.getConfiguration().getNetworkOutputs();
    if (outs.isEmpty()) {
      return -1;
    }
    if (network.getLayer(outs.get(0)) != null
        && network.getLayer(outs.get(0)).conf().getLayer() instanceof FeedForwardLayer ff) {
      return ff.getNOut();
    }
    // Any other output vertex: follow size-preserving vertices (activation, dropout, element-wise
    // arithmetic) back to the dense layer that sets the size, on the configuration alone.
    var conf = network.getConfiguration();
    String v = outs.get(0);
    for (int hops = 0; hops < conf.getVertices().size(); hops++) {
      var vertex = conf.getVertices().get(v);
      List<String> inputs = conf.getVertexInputs().get(v);
      if (vertex instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
          && lv.getLayerConf() != null) {
        var layer = lv.getLayerConf().getLayer();
        if (layer instanceof FeedForwardLayer ff) {
          return ff.getNOut();
        }
        if (!(layer instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer
            || layer instanceof org.deeplearning4j.nn.conf.layers.DropoutLayer)) {
          return -1;
        }
      } else if (!(vertex instanceof org.deeplearning4j.nn.conf.graph.ElementWiseVertex
          || vertex instanceof org.deeplearning4j.nn.conf.graph.ScaleVertex
          || vertex instanceof org.deeplearning4j.nn.conf.graph.ShiftVertex)) {
        return -1;
      }
      if (inputs == null || inputs.isEmpty()) {
        return -1;
      }
      v = inputs.get(0);
    }
    return -1;
  }

  private static void putDeflated(ZipOutputStream zip, String name, byte[] bytes)
      throws IOException {
    ZipEntry e = new ZipEntry(name);
    zip.putNextEntry(e);
    zip.write(bytes);
    zip.closeEntry();
  }

  private static void putStored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(bytes.length);
    e.setCompressedSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(bytes);
    zip.closeEntry();
  }

  /** The JSON tree written to {@code graft.json}. */
  static ObjectNode toJson(ModelInfo info) {
    ObjectNode root = JSON.createObjectNode();
    root.put("formatVersion", FORMAT_VERSION);
    root.put("graftVersion", info.graftVersion());
    root.put("createdAtMillis", info.createdAtMillis());
    root.put("baseId", info.baseId());
    root.put("weightsKey", info.weightsKey());
    ArrayNode labels = root.putArray("labels");
    info.labels().forEach(labels::add);
    root.put("inputSize", info.inputSize());
    root.put("resize", info.resize().name());
    Preprocessing p = info.preprocessing();
    ObjectNode pre = root.putObject("preprocessing");
    pre.put("name", p.name());
    pre.put("channelOrder", p.channelOrder().name());
    pre.put("scale", p.scale());
    ArrayNode mean = pre.putArray("mean");
    for (float v : p.mean()) {
      mean.add(v);
    }
    ArrayNode std = pre.putArray("std");
    for (float v : p.std()) {
      std.add(v);
    }
    pre.put("cropFraction", p.cropFraction());
    pre.put("interpolation", p.interpolation().name());
    root.put("strategy", info.strategy());
    ObjectNode settings = root.putObject("settings");
    info.settings().forEach(settings::put);
    ObjectNode metrics = root.putObject("metrics");
    info.metrics().forEach((k, v) -> metrics.put(k, v));
    root.put("monitor", info.history().monitor().name());
    ArrayNode history = root.putArray("history");
    for (EpochRecord r : info.history().epochs()) {
      ObjectNode e = history.addObject();
      e.put("epoch", r.epoch());
      e.put("trainLoss", r.trainLoss());
      e.put("trainAccuracy", r.trainAccuracy());
      e.put("validationLoss", r.validationLoss());
      e.put("validationAccuracy", r.validationAccuracy());
      e.put("learningRate", r.learningRate());
      e.put("seconds", r.seconds());
    }
    return root;
  }

  static ModelInfo fromJson(JsonNode root) {
    return fromJson(root, Limits.defaults());
  }

  /**
   * The model description in {@code root}, every field checked for its type and range.
   *
   * @throws IllegalArgumentException naming the field and the bad value
   */
  static ModelInfo fromJson(JsonNode root, Limits limits) {
    JsonNode labelsNode = required(root, "labels");
    if (!labelsNode.isArray() || labelsNode.size() == 0 || labelsNode.size() > limits.maxLabels()) {
      throw new IllegalArgumentException(
          "field 'labels' must be an array of 1 to " + limits.maxLabels() + " strings");
    }
    List<String> labels = new ArrayList<>();
    for (JsonNode l : labelsNode) {
      labels.add(text(l, "labels[]"));
    }
    JsonNode pre = required(root, "preprocessing");
    Preprocessing p =
        new Preprocessing(
            text(required(pre, "name"), "preprocessing.name"),
            enumValue(
                ChannelOrder.class, required(pre, "channelOrder"), "preprocessing.channelOrder"),
            (float) number(required(pre, "scale"), "preprocessing.scale"),
            floats(required(pre, "mean"), "preprocessing.mean"),
            floats(required(pre, "std"), "preprocessing.std"),
            // Absent in files written before the publisher's resize was recorded: whole square.
            pre.has("cropFraction")
                ? (float) number(pre.get("cropFraction"), "preprocessing.cropFraction")
                : 1f,
            pre.has("interpolation")
                ? enumValue(
                    Interpolation.class, pre.get("interpolation"), "preprocessing.interpolation")
                : Interpolation.BILINEAR);
    Map<String, String> settings = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = object(root, "settings").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode()) {
        throw new IllegalArgumentException("field 'settings." + e.getKey() + "' must be a string");
      }
      settings.put(e.getKey(), e.getValue().asText());
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = object(root, "metrics").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      metrics.put(e.getKey(), number(e.getValue(), "metrics." + e.getKey()));
    }
    History history =
        new History(
            root.has("monitor")
                ? enumValue(dev.graft.metrics.Monitor.class, root.get("monitor"), "monitor")
                : dev.graft.metrics.Monitor.VALIDATION_LOSS);
    JsonNode epochs = root.path("history");
    if (!epochs.isMissingNode() && !epochs.isArray()) {
      throw new IllegalArgumentException("field 'history' must be an array");
    }
    for (JsonNode e : epochs) {
      if (!e.isObject()) {
        throw new IllegalArgumentException("field 'history[]' must hold objects");
      }
      history.add(
          new EpochRecord(
              integer(required(e, "epoch"), "history[].epoch", 0, Integer.MAX_VALUE),
              d(e, "trainLoss"),
              d(e, "trainAccuracy"),
              d(e, "validationLoss"),
              d(e, "validationAccuracy"),
              d(e, "learningRate"),
              d(e, "seconds")));
    }
    try {
      return new ModelInfo(
          optionalText(root, "graftVersion"),
          optionalText(root, "baseId"),
          optionalText(root, "weightsKey"),
          labels,
          p,
          integer(required(root, "inputSize"), "inputSize", 1, ModelInfo.MAX_INPUT_SIZE),
          root.has("resize")
              ? ResizeMode.parse(text(root.get("resize"), "resize"))
              : ResizeMode.CENTER_CROP,
          optionalText(root, "strategy"),
          settings,
          metrics,
          history,
          root.has("createdAtMillis")
              ? (long) integer(root.get("createdAtMillis"), "createdAtMillis")
              : 0L);
    } catch (dev.graft.error.GraftException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static final Set<String> NON_FINITE = Set.of("NaN", "Infinity", "-Infinity");

  private static double d(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return Double.NaN;
    }
    return number(v, "history[]." + field);
  }

  private static JsonNode required(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing field '" + field + "'");
    }
    return v;
  }

  private static JsonNode object(JsonNode root, String field) {
    JsonNode v = root.path(field);
    if (!v.isMissingNode() && !v.isObject()) {
      throw new IllegalArgumentException("field '" + field + "' must be an object");
    }
    return v;
  }

  private static String text(JsonNode v, String field) {
    if (!v.isTextual()) {
      throw new IllegalArgumentException("field '" + field + "' must be a string, got " + shown(v));
    }
    return v.asText();
  }

  private static String optionalText(JsonNode root, String field) {
    JsonNode v = root.get(field);
    return v == null || v.isNull() ? null : text(v, field);
  }

  private static double number(JsonNode v, String field) {
    if (v.isTextual() && NON_FINITE.contains(v.asText())) {
      return Double.parseDouble(v.asText()); // Jackson writes NaN and infinities as strings
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be a number, got " + shown(v));
    }
    return v.asDouble();
  }

  private static long integer(JsonNode v, String field) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException(
          "field '" + field + "' must be an integer, got " + shown(v));
    }
    return v.asLong();
  }

  private static int integer(JsonNode v, String field, int min, int max) {
    long x = integer(v, field);
    if (x < min || x > max) {
      throw new IllegalArgumentException(
          "field '" + field + "' must be in [" + min + ", " + max + "], got " + x);
    }
    return (int) x;
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, JsonNode v, String field) {
    String name = text(v, field);
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "field '"
              + field
              + "' must be one of "
              + java.util.Arrays.toString(type.getEnumConstants())
              + ", got "
              + shown(v),
          e);
    }
  }

  private static String shown(JsonNode v) {
    return shorten(v.toString());
  }

  private static float[] floats(JsonNode arr, String field) {
    if (!arr.isArray() || arr.size() > 16) {
      throw new IllegalArgumentException(
          "field '" + field + "' must be an array of at most 16 numbers");
    }
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) number(arr.get(i), field + "[" + i + "]");
    }
    return out;
  }
}
