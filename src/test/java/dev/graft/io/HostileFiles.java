package dev.graft.io;

import dev.graft.model.TinyNets;
import dev.graft.model.TransferModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.util.ModelSerializer;
import untrusted.RecordingPayload;

/**
 * Real hostile files for tests, crafted from a good tiny network: the ways a shared model file can
 * try to run code, hang or exhaust memory.
 */
public final class HostileFiles {
  /** Labels of the tiny model. */
  public static final List<String> LABELS = List.of("1", "4", "8");

  /** Bytes of zeros a bomb inflates to (256 MiB from about 250 KB). */
  public static final long BOMB_BYTES = 256L << 20;

  private HostileFiles() {}

  /** A good DL4J zip of a tiny 28 px CNN with three outputs, as ModelSerializer writes it. */
  public static Path goodZip(Path file) throws IOException {
    ModelSerializer.writeModel(TinyNets.classifier(28, 3, 5), file.toFile(), false);
    return file;
  }

  /** A good {@code .graft} model of the same network. */
  public static Path goodGraft(Path file) throws IOException {
    new TransferModel(TinyNets.classifier(28, 3, 5), TinyNets.info(LABELS, 28)).save(file);
    return file;
  }

  /** The entries of a zip the test wrote itself. */
  public static Map<String, byte[]> entries(Path zip) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (ZipFile z = new ZipFile(zip.toFile())) {
      var it = z.entries();
      while (it.hasMoreElements()) {
        ZipEntry e = it.nextElement();
        try (var in = z.getInputStream(e)) {
          out.put(e.getName(), in.readAllBytes());
        }
      }
    }
    return out;
  }

  /**
   * Writes {@code entries} to {@code file}, deflated, except a {@code network.zip} entry, which is
   * stored as Graft stores it.
   */
  public static Path writeZip(Path file, Map<String, byte[]> entries) throws IOException {
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      for (var e : entries.entrySet()) {
        ZipEntry ze = new ZipEntry(e.getKey());
        if (e.getKey().equals("network.zip")) {
          java.util.zip.CRC32 crc = new java.util.zip.CRC32();
          crc.update(e.getValue());
          ze.setMethod(ZipEntry.STORED);
          ze.setSize(e.getValue().length);
          ze.setCompressedSize(e.getValue().length);
          ze.setCrc(crc.getValue());
        }
        z.putNextEntry(ze);
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return file;
  }

  /** A Java-serialized {@link RecordingPayload}. */
  public static byte[] payload() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
      o.writeObject(new RecordingPayload());
    }
    return bytes.toByteArray();
  }

  /** A good DL4J zip plus a {@code preprocessor.bin} payload entry. */
  public static Path payloadZip(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodZip(dir.resolve("good-for-payload.zip")));
    e.put("preprocessor.bin", payload());
    return writeZip(dir.resolve("payload.zip"), e);
  }

  /** A good DL4J zip whose configuration names {@code untrusted.RecordingActivation}. */
  public static Path offAllowlistZip(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodZip(dir.resolve("good-for-class.zip")));
    String json = new String(e.get(NetworkZip.CONFIGURATION), StandardCharsets.UTF_8);
    if (!json.contains("org.nd4j.linalg.activations.impl.ActivationReLU")) {
      throw new IllegalStateException("the tiny network has no ReLU to replace");
    }
    json =
        json.replace(
            "org.nd4j.linalg.activations.impl.ActivationReLU", "untrusted.RecordingActivation");
    e.put(NetworkZip.CONFIGURATION, json.getBytes(StandardCharsets.UTF_8));
    return writeZip(dir.resolve("class.zip"), e);
  }

  /**
   * A good DL4J zip whose ReLU activation object holds two {@code "@class"} keys: first {@code
   * untrusted.RecordingActivation} (which DL4J's data binding would instantiate), then the
   * allowlisted ReLU (which a checker reading a JSON tree would see).
   */
  public static Path duplicateClassZip(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodZip(dir.resolve("good-for-duplicate.zip")));
    String json = new String(e.get(NetworkZip.CONFIGURATION), StandardCharsets.UTF_8);
    String relu = "\"org.nd4j.linalg.activations.impl.ActivationReLU\"";
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"@class\"\\s*:\\s*" + java.util.regex.Pattern.quote(relu))
            .matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("the tiny network has no ReLU to shadow");
    }
    json =
        json.substring(0, m.start())
            + "\"@class\" : \"untrusted.RecordingActivation\", "
            + json.substring(m.start());
    e.put(NetworkZip.CONFIGURATION, json.getBytes(StandardCharsets.UTF_8));
    return writeZip(dir.resolve("duplicate.zip"), e);
  }

  /**
   * A good {@code .graft} file whose {@code graft.json} holds a {@code digits}-digit integer (the
   * 4-million-digit one took minutes to parse), as a member no reader looks at.
   */
  public static Path longNumberGraft(Path dir, int digits) throws IOException {
    Map<String, byte[]> e = entries(goodGraft(dir.resolve("good-for-number.graft")));
    String json = new String(e.get("graft.json"), StandardCharsets.UTF_8);
    int brace = json.indexOf('{');
    json =
        json.substring(0, brace + 1)
            + "\"n\": "
            + "7".repeat(digits)
            + ", "
            + json.substring(brace + 1);
    e.put("graft.json", json.getBytes(StandardCharsets.UTF_8));
    return writeZip(dir.resolve("number.graft"), e);
  }

  /**
   * A good {@code .graft} whose {@code graft.json} declares {@code "inputSize": size} (the network
   * is 28 px): at 16384 one preprocessed image would be 3 GiB of floats.
   */
  public static Path inputSizeGraft(Path dir, int size) throws IOException {
    return editedGraft(
        dir, "size-" + size + ".graft", "\"inputSize\"\\s*:\\s*28", "\"inputSize\": " + size);
  }

  /**
   * A good {@code .graft} (labels {@link #LABELS}) named {@code name} whose {@code graft.json} has
   * the first match of the regular expression {@code regex} replaced by {@code replacement}.
   */
  public static Path editedGraft(Path dir, String name, String regex, String replacement)
      throws IOException {
    Map<String, byte[]> e = entries(goodGraft(dir.resolve("good-for-" + name)));
    String json = new String(e.get("graft.json"), StandardCharsets.UTF_8);
    String edited = json.replaceFirst(regex, replacement);
    if (edited.equals(json)) {
      throw new IllegalStateException("no " + regex + " in " + json);
    }
    e.put("graft.json", edited.getBytes(StandardCharsets.UTF_8));
    return writeZip(dir.resolve(name), e);
  }

  /** A zip whose {@code coefficients.bin} honestly declares {@link #BOMB_BYTES} of zeros. */
  public static Path bombZip(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodZip(dir.resolve("good-for-bomb.zip")));
    Path file = dir.resolve("bomb.zip");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      z.setLevel(Deflater.BEST_SPEED);
      z.putNextEntry(new ZipEntry(NetworkZip.CONFIGURATION));
      z.write(e.get(NetworkZip.CONFIGURATION));
      z.closeEntry();
      z.putNextEntry(new ZipEntry(NetworkZip.COEFFICIENTS));
      z.write(e.get(NetworkZip.COEFFICIENTS));
      writeZeros(z, BOMB_BYTES);
      z.closeEntry();
    }
    return file;
  }

  /**
   * A zip whose {@code coefficients.bin} header (in the central directory) declares the size of the
   * real parameters, while the entry inflates to {@link #BOMB_BYTES} more.
   */
  public static Path lyingHeaderZip(Path dir) throws IOException {
    Path file = bombZip(dir);
    Map<String, byte[]> good = entries(dir.resolve("good-for-bomb.zip"));
    Path lying = dir.resolve("lying.zip");
    Files.write(
        lying,
        patchSize(
            Files.readAllBytes(file),
            NetworkZip.COEFFICIENTS,
            good.get(NetworkZip.COEFFICIENTS).length));
    return lying;
  }

  /**
   * A zip whose {@code coefficients.bin} ends halfway through the parameters while its header
   * declares the full size.
   */
  public static Path truncatedEntryZip(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodZip(dir.resolve("good-for-truncation.zip")));
    byte[] full = e.get(NetworkZip.COEFFICIENTS);
    e.put(NetworkZip.COEFFICIENTS, java.util.Arrays.copyOf(full, full.length / 2));
    Path half = writeZip(dir.resolve("half.zip"), e);
    Path file = dir.resolve("truncated-entry.zip");
    Files.write(file, patchSize(Files.readAllBytes(half), NetworkZip.COEFFICIENTS, full.length));
    return file;
  }

  /**
   * A good {@code .graft} file whose {@code network.zip} entry is {@link #BOMB_BYTES} of zeros,
   * deflated (about 250 KB): honest about its size, far larger than the file.
   */
  public static Path nestedBombGraft(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodGraft(dir.resolve("good-for-nested.graft")));
    Path file = dir.resolve("nested-bomb.graft");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      z.setLevel(Deflater.BEST_SPEED);
      for (Map.Entry<String, byte[]> en : e.entrySet()) {
        z.putNextEntry(new ZipEntry(en.getKey()));
        if (en.getKey().equals("network.zip")) {
          writeZeros(z, BOMB_BYTES);
        } else {
          z.write(en.getValue());
        }
        z.closeEntry();
      }
    }
    return file;
  }

  /** A label that sets the terminal's title (ESC ] 0 ; ... BEL), then clears the screen. */
  public static final String ESCAPE_LABEL = "\u001b]0;pwned\u0007\u001b[2J8";

  /** A good {@code .graft} ({@code labels.graft}) whose label "8" is {@link #ESCAPE_LABEL}. */
  public static Path escapeLabelGraft(Path dir) throws IOException {
    Map<String, byte[]> e = entries(goodGraft(dir.resolve("good-for-labels.graft")));
    String json = new String(e.get("graft.json"), StandardCharsets.UTF_8);
    e.put(
        "graft.json",
        json.replaceFirst("\"8\"", "\"\\\\u001b]0;pwned\\\\u0007\\\\u001b[2J8\"")
            .getBytes(StandardCharsets.UTF_8));
    e.put("labels.txt", ("1\n4\n" + ESCAPE_LABEL + "\n").getBytes(StandardCharsets.UTF_8));
    return writeZip(dir.resolve("labels.graft"), e);
  }

  /** A {@code .graft} file whose {@code network.zip} entry is {@code network}. */
  public static Path graftWith(Path dir, String name, Path network) throws IOException {
    Map<String, byte[]> e = entries(goodGraft(dir.resolve("good-for-" + name)));
    e.put("network.zip", Files.readAllBytes(network));
    return writeZip(dir.resolve(name), e);
  }

  /** {@code n} zero bytes. */
  static void writeZeros(OutputStream out, long n) throws IOException {
    byte[] zeros = new byte[1 << 20];
    for (long done = 0; done < n; done += zeros.length) {
      out.write(zeros, 0, (int) Math.min(zeros.length, n - done));
    }
  }

  /** Sets the uncompressed size the central directory declares for {@code name}. */
  static byte[] patchSize(byte[] zip, String name, long size) {
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i + 46 < zip.length; i++) {
      if (b.getInt(i) == 0x02014b50) {
        int nameLen = b.getShort(i + 28) & 0xffff;
        if (nameLen == wanted.length
            && java.util.Arrays.equals(zip, i + 46, i + 46 + nameLen, wanted, 0, nameLen)) {
          b.putInt(i + 24, (int) size);
          return zip;
        }
      }
    }
    throw new IllegalStateException("no central directory entry " + name);
  }
}
