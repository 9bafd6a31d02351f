package dev.graft.data;

import java.io.IOException;
import javax.imageio.IIOException;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An image file held in memory, as the {@link javax.imageio.stream.ImageInputStream} every decoder
 * reads: past the end of the data it answers "end" a few times, then fails. A decoder that takes
 * the end of a truncated or crafted file for zeros and keeps reading (TwelveMonkeys' lossless WebP
 * reader catches an {@link java.io.EOFException} per byte: a 41-byte file declaring 16384 x 136
 * pixels took 16 s, 152 s under the fuzzer) is stopped at once, and the file is reported truncated.
 */
final class EncodedBytes extends ImageInputStreamImpl {
  /** End-of-data answers allowed before reading past the end fails (readers prefetch a little). */
  static final int MAX_READS_PAST_END = 64;

  private final byte[] data;
  private int pastEnd;

  EncodedBytes(byte[] data) {
    this.data = data;
  }

  @Override
  public int read() throws IOException {
    checkClosed();
    bitOffset = 0;
    if (streamPos >= data.length) {
      return end();
    }
    return data[(int) streamPos++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkClosed();
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    if (streamPos >= data.length) {
      return end();
    }
    int n = (int) Math.min(len, data.length - streamPos);
    System.arraycopy(data, (int) streamPos, b, off, n);
    streamPos += n;
    return n;
  }

  @Override
  public long length() {
    return data.length;
  }

  private int end() throws IIOException {
    if (++pastEnd > MAX_READS_PAST_END) {
      throw new IIOException(
          "the decoder kept reading past the end of the file's " + data.length + " bytes");
    }
    return -1;
  }
}
