package dev.graft.data;

/**
 * How a scan ({@link ImageFolder}, {@link ImageList}) treats files it cannot use.
 *
 * <p>Every scan checks each candidate file cheaply: it must be non-empty and its first bytes must
 * be recognised by an ImageIO reader (so a PNG named {@code .jpg} is fine, a text file named {@code
 * .jpg} is not). With {@link #verify()} the scan also decodes every file in full, in parallel, so
 * that truncated and corrupt files are found before training starts rather than while it runs; that
 * costs one full decode of the dataset.
 *
 * <pre>{@code
 * ImageFolder.of(root);                                        // lenient, header check only
 * ImageFolder.of(root, ScanOptions.defaults().withVerify(true)); // decode everything up front
 * ImageFolder.of(root, ScanOptions.defaults().withStrict(true)); // first bad file is an error
 * }</pre>
 *
 * @param strict if true, the first bad file stops the scan with a {@link
 *     dev.graft.error.GraftException} naming it; if false, bad files are skipped with one warning
 *     each and listed by {@link ImageDataset#skipped()}
 * @param verify if true, decode every file during the scan
 */
public record ScanOptions(boolean strict, boolean verify) {

  /** Lenient, header check only. */
  public static ScanOptions defaults() {
    return new ScanOptions(false, false);
  }

  /** These options with {@code strict} changed. */
  public ScanOptions withStrict(boolean strict) {
    return new ScanOptions(strict, verify);
  }

  /** These options with {@code verify} changed. */
  public ScanOptions withVerify(boolean verify) {
    return new ScanOptions(strict, verify);
  }
}
