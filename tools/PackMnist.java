import java.awt.image.BufferedImage;
import java.io.*;
import java.nio.file.*;
import java.util.*;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/**
 * One-off packer for the bundled demo digits: {@code java tools/PackMnist.java SRC_DIR OUT_FILE}.
 * SRC_DIR holds a folder per digit of 28x28 grayscale PNGs; OUT_FILE gets the gzip'd GMNIST01 format
 * read by dev.graft.demo.DemoData (magic, count, rows, cols, labels, pixels; big-endian ints).
 */
public class PackMnist {
  public static void main(String[] args) throws IOException {
    Path src = Path.of(args[0]);
    List<Integer> labels = new ArrayList<>();
    ByteArrayOutputStream pixels = new ByteArrayOutputStream();
    for (int d = 0; d <= 9; d++) {
      List<Path> files;
      try (var s = Files.list(src.resolve(Integer.toString(d)))) { files = s.sorted().toList(); }
      for (Path f : files) {
        BufferedImage img = ImageIO.read(f.toFile());
        if (img.getWidth() != 28 || img.getHeight() != 28) throw new IOException("not 28x28: " + f);
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) pixels.write(img.getRaster().getSample(x, y, 0));
        labels.add(d);
      }
    }
    try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(Path.of(args[1])))) {{ def.setLevel(9); }})) {
      out.writeBytes("GMNIST01");
      out.writeInt(labels.size()); out.writeInt(28); out.writeInt(28);
      for (int l : labels) out.writeByte(l);
      pixels.writeTo(out);
    }
    System.out.println("packed " + labels.size());
  }
}
