package dev.graft.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * Small image files whose headers declare huge images (the 42-byte lossless WebP declaring 16384 x
 * 16384 pixels hung {@code predict} for minutes), and files named like images that are not regular
 * files or are sparse giants: each written by hand, byte by byte.
 */
public final class HostileImages {
  private HostileImages() {}

  /** The formats {@link #huge} writes. */
  public enum Format {
    WEBP_LOSSLESS("webp"),
    WEBP_LOSSY("webp"),
    PNG("png"),
    JPEG("jpg"),
    GIF("gif"),
    BMP("bmp"),
    TIFF("tif");

    final String extension;

    Format(String extension) {
      this.extension = extension;
    }
  }

  /** A tiny file of {@code format} whose header declares an image far over every budget. */
  public static Path huge(Path dir, Format format) throws IOException {
    return Files.write(
        dir.resolve("huge-" + format.name().toLowerCase() + "." + format.extension), bytes(format));
  }

  static byte[] bytes(Format format) {
    return switch (format) {
      case WEBP_LOSSLESS -> {
        // VP8L: signature 0x2f, then 14 bits width-1, 14 bits height-1, alpha, 3-bit version.
        long bits = (16383L) | (16383L << 14);
        byte[] vp8l = new byte[5 + 16];
        vp8l[0] = 0x2f;
        for (int i = 0; i < 4; i++) {
          vp8l[1 + i] = (byte) (bits >>> (8 * i));
        }
        yield riff("VP8L", vp8l);
      }
      case WEBP_LOSSY -> {
        ByteBuffer b = ByteBuffer.allocate(10 + 64).order(ByteOrder.LITTLE_ENDIAN);
        int partition = 40;
        int tag = 0 /* key frame */ | (0 << 1) | (1 << 4) /* shown */ | (partition << 5);
        b.put((byte) tag).put((byte) (tag >> 8)).put((byte) (tag >> 16));
        b.put((byte) 0x9d).put((byte) 0x01).put((byte) 0x2a);
        b.putShort((short) 16383).putShort((short) 16383);
        yield riff("VP8 ", b.array());
      }
      case PNG -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13);
        ihdr.putInt(60000)
            .putInt(60000)
            .put((byte) 8)
            .put((byte) 2)
            .put((byte) 0)
            .put((byte) 0)
            .put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        yield out.toByteArray();
      }
      case JPEG -> {
        // A real 16 x 16 baseline JPEG from the JDK's writer, its SOF0 patched to 65000 x 65000.
        byte[] b = smallJpeg();
        for (int i = 2; i + 9 < b.length; i++) {
          if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) == 0xC0) {
            b[i + 5] = (byte) 0xFD;
            b[i + 6] = (byte) 0xE8;
            b[i + 7] = (byte) 0xFD;
            b[i + 8] = (byte) 0xE8;
            yield b;
          }
        }
        throw new IllegalStateException("no SOF0 in the JDK's JPEG");
      }
      case GIF -> {
        ByteBuffer b = ByteBuffer.allocate(6 + 7 + 10 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putShort((short) 0xFFFF)
            .putShort((short) 0xFFFF)
            .put((byte) 0)
            .put((byte) 0)
            .put((byte) 0);
        b.put((byte) 0x2C).putShort((short) 0).putShort((short) 0);
        b.putShort((short) 0xFFFF).putShort((short) 0xFFFF).put((byte) 0);
        b.put((byte) 2).put((byte) 0).put((byte) 0x3B);
        yield b.array();
      }
      case BMP -> {
        // 8-bit RLE (which can honestly be tiny), a two-colour palette, one end-of-bitmap code.
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + 8 + 2).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(64).putInt(0).putInt(62);
        b.putInt(40).putInt(16000).putInt(16000).putShort((short) 1).putShort((short) 8);
        b.putInt(1).putInt(2).putInt(2835).putInt(2835).putInt(2).putInt(0);
        b.putInt(0).putInt(0xFFFFFF);
        b.put((byte) 0).put((byte) 1);
        yield b.array();
      }
      case TIFF -> {
        int entries = 8;
        ByteBuffer b =
            ByteBuffer.allocate(8 + 2 + 12 * entries + 4 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(8);
        b.putShort((short) entries);
        int dataAt = 8 + 2 + 12 * entries + 4;
        tiffEntry(b, 256, 4, 60000); // ImageWidth
        tiffEntry(b, 257, 4, 60000); // ImageLength
        tiffEntry(b, 258, 3, 8); // BitsPerSample
        tiffEntry(b, 259, 3, 1); // no compression
        tiffEntry(b, 262, 3, 1); // BlackIsZero
        tiffEntry(b, 273, 4, dataAt); // StripOffsets
        tiffEntry(b, 278, 4, 60000); // RowsPerStrip
        tiffEntry(b, 279, 4, 16); // StripByteCounts
        b.putInt(0);
        yield b.array();
      }
    };
  }

  private static byte[] smallJpeg() {
    try {
      java.awt.image.BufferedImage img =
          new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      javax.imageio.ImageIO.write(img, "jpeg", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void tiffEntry(ByteBuffer b, int tag, int type, int value) {
    b.putShort((short) tag).putShort((short) type).putInt(1);
    if (type == 3) {
      b.putShort((short) value).putShort((short) 0);
    } else {
      b.putInt(value);
    }
  }

  /**
   * A valid lossless WebP (VP8L) of {@code width} x {@code height} pixels, no transform, no colour
   * cache: with {@code bitPerPixel} false its five prefix codes have one symbol each, so every
   * pixel takes no bits at all and the decoder never reads while it fills the image; with it true
   * the green code has two symbols and each pixel takes one bit of (zero) data, which the decoder
   * reads as it goes. {@code padding} zero bytes follow the data inside the chunk.
   */
  public static byte[] losslessWebP(int width, int height, boolean bitPerPixel, int padding) {
    java.util.BitSet bits = new java.util.BitSet();
    int[] at = {0};
    java.util.function.BiConsumer<Long, Integer> put =
        (value, n) -> {
          for (int i = 0; i < n; i++) {
            bits.set(at[0]++, ((value >>> i) & 1) != 0);
          }
        };
    put.accept(0x2fL, 8); // signature
    put.accept((long) width - 1, 14);
    put.accept((long) height - 1, 14);
    put.accept(0L, 1); // alpha hint
    put.accept(0L, 3); // version
    put.accept(0L, 1); // no transform
    put.accept(0L, 1); // no colour cache
    put.accept(0L, 1); // no meta prefix codes
    for (int code = 0; code < 5; code++) {
      put.accept(1L, 1); // simple code
      if (code == 0 && bitPerPixel) {
        put.accept(1L, 1); // two symbols: 0 (1 bit) and 1 (8 bits)
        put.accept(0L, 1);
        put.accept(0L, 1);
        put.accept(1L, 8);
      } else {
        put.accept(0L, 1); // one symbol, 0, in 1 bit
        put.accept(0L, 1);
        put.accept(0L, 1);
      }
    }
    long dataBits = bitPerPixel ? (long) width * height : 0;
    int bytes = (int) ((at[0] + dataBits + 7) / 8) + padding;
    byte[] vp8l = java.util.Arrays.copyOf(bits.toByteArray(), bytes);
    return riff("VP8L", vp8l);
  }

  private static byte[] riff(String fourcc, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(20 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(12 + payload.length);
    b.put("WEBP".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    b.put(fourcc.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(payload.length);
    b.put(payload);
    return b.array();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    ByteBuffer len = ByteBuffer.allocate(4).putInt(data.length);
    out.writeBytes(len.array());
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /**
   * A symbolic-link fan-out: 25 real folders under {@code trap}, each level holding two links to
   * the next, 24 levels deep (2^24 paths), linked from {@code into} as {@code trap}; returns the
   * link.
   */
  public static Path symlinkFanOut(Path trap, Path into) throws IOException {
    Path level = Files.createDirectories(trap.resolve("d24"));
    for (int i = 23; i >= 0; i--) {
      Path d = Files.createDirectories(trap.resolve("d" + i));
      Files.createSymbolicLink(d.resolve("a"), level);
      Files.createSymbolicLink(d.resolve("b"), level);
      level = d;
    }
    return Files.createSymbolicLink(into.resolve("trap"), level);
  }

  /** A FIFO named {@code name} (nothing ever writes to it: reading it blocks forever). */
  public static Path fifo(Path dir, String name) throws IOException, InterruptedException {
    Path p = dir.resolve(name);
    Process pr = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    if (pr.waitFor() != 0) {
      throw new IOException("mkfifo failed");
    }
    return p;
  }

  /** A symbolic link named {@code name} to {@code /dev/zero} (reading it never ends). */
  public static Path devZero(Path dir, String name) throws IOException {
    return Files.createSymbolicLink(dir.resolve(name), Path.of("/dev/zero"));
  }

  /** A sparse file of {@code bytes} zeros named {@code name} (takes no disk space). */
  public static Path sparse(Path dir, String name, long bytes) throws IOException {
    Path p = dir.resolve(name);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(bytes);
    }
    return p;
  }
}
