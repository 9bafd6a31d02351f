package dev.graft.model;

import dev.graft.base.ChannelOrder;
import dev.graft.base.Preprocessing;
import dev.graft.data.ResizeMode;
import dev.graft.metrics.EpochRecord;
import dev.graft.metrics.History;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
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
 *       spreadsheets (not read back).
 * </ul>
 *
 * Files are written to a temporary name in the target directory, flushed to disk, then moved
 * into place atomically, so a reader never sees a half-written model. Reading checks the zip,
 * the entries, the format version and that the network's output size matches the labels, and
 * throws {@link ModelFileException} naming the file and the problem.
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
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream raw = java.nio.channels.Channels.newOutputStream(ch);
        ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(raw, 1 << 16));
        putDeflated(zip, INFO_ENTRY, JSON.writeValueAsBytes(toJson(info)));
        ByteArrayOutputStream net = new ByteArrayOutputStream();
        ModelSerializer.writeModel(network, net, false);
        putStored(zip, NETWORK_ENTRY, net.toByteArray()); // already compressed by ModelSerializer
        putDeflated(zip, LABELS_ENTRY, (String.join("\n", info.labels()) + "\n").getBytes(StandardCharsets.UTF_8));
        putDeflated(zip, HISTORY_ENTRY, info.history().toCsv().getBytes(StandardCharsets.UTF_8));
        zip.finish();
        zip.flush();
        ch.force(true);
        zip.close();
      }
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Reads a model file.
   *
   * @throws NoSuchFileException if there is no such file
   * @throws ModelFileException if the file is not a valid model file (the message says why)
   * @throws IOException on other I/O errors
   */
  public static TransferModel read(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "no such model file");
    }
    if (Files.isDirectory(file)) {
      throw new ModelFileException(file, "is a directory, not a .graft model file");
    }
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new ModelFileException(file, "not a .graft model file (not a zip, or truncated: "
          + e.getMessage() + ")", e);
    }
    try (zip) {
      ZipEntry infoEntry = zip.getEntry(INFO_ENTRY);
      if (infoEntry == null) {
        throw new ModelFileException(file, "missing entry '" + INFO_ENTRY + "' (not a .graft model file?)");
      }
      JsonNode root;
      try (InputStream in = zip.getInputStream(infoEntry)) {
        root = JSON.readTree(in);
      } catch (IOException e) {
        throw new ModelFileException(file, "entry '" + INFO_ENTRY + "' is damaged: " + e.getMessage(), e);
      }
      if (root == null || !root.isObject()) {
        throw new ModelFileException(file, "entry '" + INFO_ENTRY + "' is not a JSON object");
      }
      int format = root.path("formatVersion").asInt(-1);
      if (format < 1) {
        throw new ModelFileException(file, "entry '" + INFO_ENTRY + "' has no valid formatVersion");
      }
      if (format > FORMAT_VERSION) {
        throw new ModelFileException(file, "written in model format " + format + " by Graft "
            + root.path("graftVersion").asText("?") + "; this Graft (" + GraftVersion.current()
            + ") reads format " + FORMAT_VERSION + " and older: upgrade Graft");
      }
      ModelInfo info;
      try {
        info = fromJson(root);
      } catch (RuntimeException e) {
        throw new ModelFileException(file, "entry '" + INFO_ENTRY + "' is malformed: " + e.getMessage(), e);
      }
      ZipEntry netEntry = zip.getEntry(NETWORK_ENTRY);
      if (netEntry == null) {
        throw new ModelFileException(file, "missing entry '" + NETWORK_ENTRY + "'");
      }
      ComputationGraph network;
      try (InputStream in = zip.getInputStream(netEntry)) {
        network = ModelSerializer.restoreComputationGraph(in, false);
      } catch (IOException | RuntimeException e) {
        throw new ModelFileException(file, "entry '" + NETWORK_ENTRY + "' is damaged: " + e.getMessage(), e);
      }
      long outputs = outputSize(network);
      if (outputs > 0 && outputs != info.numClasses()) {
        throw new ModelFileException(file, "the network has " + outputs + " outputs but the file lists "
            + info.numClasses() + " labels");
      }
      return new TransferModel(network, info);
    }
  }

  /** The size of the graph's (first) output layer, or -1 if it cannot be told. */
  static long outputSize(ComputationGraph network) {
    List<String> outs = network.getConfiguration().getNetworkOutputs();
    if (outs.isEmpty() || network.getLayer(outs.get(0)) == null) {
      return -1;
    }
    if (network.getLayer(outs.get(0)).conf().getLayer() instanceof FeedForwardLayer ff) {
      return ff.getNOut();
    }
    return -1;
  }

  private static void putDeflated(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
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
    List<String> labels = new ArrayList<>();
    for (JsonNode l : required(root, "labels")) {
      labels.add(l.asText());
    }
    JsonNode pre = required(root, "preprocessing");
    Preprocessing p = new Preprocessing(
        required(pre, "name").asText(),
        ChannelOrder.valueOf(required(pre, "channelOrder").asText()),
        (float) required(pre, "scale").asDouble(),
        floats(required(pre, "mean")),
        floats(required(pre, "std")));
    Map<String, String> settings = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("settings").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      settings.put(e.getKey(), e.getValue().asText());
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("metrics").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      metrics.put(e.getKey(), e.getValue().asDouble());
    }
    History history = new History(root.has("monitor")
        ? dev.graft.metrics.Monitor.valueOf(root.get("monitor").asText())
        : dev.graft.metrics.Monitor.VALIDATION_LOSS);
    for (JsonNode e : root.path("history")) {
      history.add(new EpochRecord(e.path("epoch").asInt(), d(e, "trainLoss"), d(e, "trainAccuracy"),
          d(e, "validationLoss"), d(e, "validationAccuracy"), d(e, "learningRate"), d(e, "seconds")));
    }
    return new ModelInfo(
        root.path("graftVersion").asText("unknown"),
        root.path("baseId").asText("unknown"),
        root.path("weightsKey").asText("unknown"),
        labels,
        p,
        required(root, "inputSize").asInt(),
        ResizeMode.valueOf(root.path("resize").asText(ResizeMode.CENTER_CROP.name())),
        root.path("strategy").asText("unknown"),
        settings,
        metrics,
        history,
        root.path("createdAtMillis").asLong(0));
  }

  private static double d(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? Double.NaN : v.asDouble(Double.NaN);
  }

  private static JsonNode required(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing field '" + field + "'");
    }
    return v;
  }

  private static float[] floats(JsonNode arr) {
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) arr.get(i).asDouble();
    }
    return out;
  }
}
