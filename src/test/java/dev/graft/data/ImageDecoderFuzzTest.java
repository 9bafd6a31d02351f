package dev.graft.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.io.FuzzSeeds;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the image front end, {@link ImageDecoder#probe} then {@link ImageDecoder#read(Path)}: an
 * upright RGB image, or an {@link IOException} naming the file (which {@code train} and {@code
 * predict DIR} turn into a skipped file and {@code predict IMAGE} into exit 2), never another
 * exception, a hang or an out-of-memory error. Seeds: small real files of every format and the
 * hostile headers {@link HostileImages} writes.
 */
class ImageDecoderFuzzTest {
  static Path file;

  @BeforeAll
  static void seeds() throws Exception {
    Path dir = Files.createTempDirectory("graft-fuzz-image");
    file = dir.resolve("fuzzed.img");
    Map<String, byte[]> seeds = new LinkedHashMap<>();
    BufferedImage photo = TestImages.photo(24, 16, 1);
    for (String format : new String[] {"png", "jpeg", "gif", "bmp", "tiff"}) {
      seeds.put(
          format, FuzzSeeds.bytes(TestImages.write(photo, format, dir.resolve("s." + format))));
    }
    for (String webp : new String[] {"gradient-lossy.webp", "gradient-lossless.webp"}) {
      try (InputStream in = ImageDecoderFuzzTest.class.getResourceAsStream("/webp/" + webp)) {
        seeds.put(webp, in.readAllBytes());
      }
    }
    for (HostileImages.Format f : HostileImages.Format.values()) {
      seeds.put("huge-" + f, HostileImages.bytes(f));
    }
    seeds.put("vp8l-bit-per-pixel", HostileImages.losslessWebP(40, 24, true, 0));
    seeds.put("vp8l-no-bits", HostileImages.losslessWebP(40, 24, false, 0));
    FuzzSeeds.write(ImageDecoderFuzzTest.class, "fuzz", seeds);
  }

  @FuzzTest(maxDuration = "25s")
  void fuzz(byte[] bytes) throws Exception {
    Files.write(file, bytes);
    try {
      ImageDecoder.probe(file);
      BufferedImage img = ImageDecoder.read(file);
      if (img.getType() != BufferedImage.TYPE_INT_RGB) {
        throw new AssertionError("decoded to type " + img.getType());
      }
    } catch (IOException expected) {
      if (!expected.getMessage().startsWith(file + ": ")) {
        throw new AssertionError("message does not name the file: " + expected.getMessage());
      }
    }
  }
}
