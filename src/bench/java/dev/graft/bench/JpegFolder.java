package dev.graft.bench;

import dev.graft.demo.DemoData;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes a class-folder dataset of colour JPEGs for the end-to-end benchmarks ({@code
 * src/bench/sh/e2e.sh}): the bundled digits, drawn at {@code side} pixels on a tinted background so
 * that decode and resize cost what a photo of that size costs. Usage: {@code JpegFolder DIR
 * PER_CLASS SIDE}.
 */
final class JpegFolder {
  private JpegFolder() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    int perClass = Integer.parseInt(args[1]);
    int side = Integer.parseInt(args[2]);
    DemoData digits = DemoData.load();
    ImageWriter writer = jpegWriter();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.9f);
    for (int digit = 0; digit < 10; digit++) {
      Path classDir = Files.createDirectories(dir.resolve("digit" + digit));
      for (int i = 0; i < perClass; i++) {
        BufferedImage rgb = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        g.setColor(new Color(40 + 20 * digit, 90 + (i * 7) % 120, 160 - 10 * digit));
        g.fillRect(0, 0, side, side);
        g.setRenderingHint(
            RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setXORMode(Color.WHITE);
        g.drawImage(digits.image(digit, i % digits.count(digit)), 0, 0, side, side, null);
        g.dispose();
        try (ImageOutputStream out =
            ImageIO.createImageOutputStream(classDir.resolve(i + ".jpg").toFile())) {
          writer.setOutput(out);
          writer.write(null, new IIOImage(rgb, null, null), param);
        }
      }
    }
    writer.dispose();
  }

  private static ImageWriter jpegWriter() {
    Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
    if (!it.hasNext()) {
      throw new IllegalStateException("no JPEG writer");
    }
    return it.next();
  }
}
