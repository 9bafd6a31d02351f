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
  /**
   * End-of-data answers allowed before reading past the end fails. Readers look ahead:
   * TwelveMonkeys' VP8L bit reader probes 8 bytes ahead ({@code readLong}) on every refill, so a
   * valid file whose last 8 bytes hold one-bit codes reads past its end once per bit (64 was too
   * few: a valid 512 x 512 lossless WebP ending at its last bit was refused). Still a few
   * milliseconds of work.
   */
  static final int MAX_READS_PAST_END = 4096;

  private final byte[] data;
  private int pastEnd;
  private volatile boolean cancelled;

  EncodedBytes(byte[] data) {
    this.data = data;
  }

  /**
   * Makes every further read fail: the decode-time watchdog's way to stop a reader that ignores
   * {@code ImageReader.abort()} (TwelveMonkeys' WebP reader) at its next read.
   */
  void cancel() {
    cancelled = true;
  }

  @Override
  public int read() throws IOException {
    checkClosed();
    checkCancelled();
    bitOffset = 0;
    if (streamPos >= data.length) {
      return end();
    }
    return data[(int) streamPos++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkClosed();
    checkCancelled();
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

  private void checkCancelled() throws IIOException {
    if (cancelled) {
      throw new IIOException("decoding cancelled: it ran over its time budget");
    }
  }

  private int end() throws IIOException {
    if (++pastEnd > MAX_READS_PAST_END) {
      throw new IIOException(
          "the decoder kept reading past the end of the file's " + data.length + " bytes");
    }
    return -1;
  }
}
