package dev.graft.io;

import dev.graft.error.GraftException;
import java.nio.file.Path;

/**
 * A file Graft refuses to load because it is not plain data of the expected kind: an entry a
 * network does not need (a Java-serialized {@code preprocessor.bin}), a class name off the
 * allowlist, an entry larger than what the configuration needs, a lying size header, a truncated
 * entry, a file that is not a zip or not HDF5, a pinned SHA-256 that does not match. The message is
 * one line naming the file and, where there is one, the entry: {@code model.graft: entry
 * 'network.zip/preprocessor.bin': ...}. Nothing from the file has been deserialized when this is
 * thrown.
 */
public class RefusedFileException extends GraftException {
  private final transient Path file;
  private final String entry;

  /**
   * @param file the file at fault
   * @param entry the entry at fault (zip entry or dataset path), or null for the file as a whole
   * @param reason what is wrong, without the file name
   */
  public RefusedFileException(Path file, String entry, String reason) {
    this(file, entry, reason, null);
  }

  /** As {@link #RefusedFileException(Path, String, String)}, with the underlying error. */
  public RefusedFileException(Path file, String entry, String reason, Throwable cause) {
    super(file + ": " + (entry == null ? "" : "entry '" + entry + "': ") + reason, cause);
    this.file = file;
    this.entry = entry;
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** The entry at fault, or null when the file as a whole is refused. */
  public String entry() {
    return entry;
  }
}
