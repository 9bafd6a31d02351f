package dev.graft.base;

import dev.graft.error.GraftException;
import dev.graft.io.Downloader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * One published pretrained weight file: where it lives relative to a download base URL and the
 * Adler32 checksum it must have. The catalog declares one per architecture (DL4J's zoo files);
 * tests and private mirrors pass their own through {@link Weights#imagenet(PretrainedFile)}.
 *
 * <pre>{@code
 * new PretrainedFile("models/resnet50_dl4j_inference.v3.zip", 3914447815L)
 * }</pre>
 *
 * @param path path relative to the download base URL, for example {@code
 *     models/vgg16_dl4j_inference.zip}; its last segment names the cached file
 * @param adler32 the Adler32 checksum of the whole file
 */
public record PretrainedFile(String path, long adler32) {
  public PretrainedFile {
    if (path == null || path.isBlank() || path.endsWith("/")) {
      throw new GraftException("a pretrained file needs a path naming a file, got '" + path + "'");
    }
    if (adler32 < 0 || adler32 > 0xFFFFFFFFL) {
      throw new GraftException("an Adler32 checksum is an unsigned 32-bit value, got " + adler32);
    }
    while (path.startsWith("/")) {
      path = path.substring(1);
    }
  }

  /** The name of the file in the cache directory: the last segment of {@link #path()}. */
  public String fileName() {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /**
   * The download URL of this file under {@code baseUrl}.
   *
   * @param baseUrl for example {@code https://dl4jdata.blob.core.windows.net/}; a missing trailing
   *     slash is added
   */
  public URI url(String baseUrl) {
    return Downloader.resolve(baseUrl, path);
  }

  /**
   * The cached, verified copy of this file, downloaded from {@code baseUrl} first if needed.
   *
   * @throws GraftException offline with no cached copy, the download failed or the bytes do not
   *     match the checksum (see {@link Downloader#fetch(String, String, URI, Downloader.Checksum,
   *     Path, boolean)})
   * @throws IOException the cache cannot be written
   */
  public Path fetch(String baseUrl, Path cacheDir, boolean offline) throws IOException {
    return Downloader.fetch(
        "pretrained weights",
        fileName(),
        url(baseUrl),
        Downloader.Checksum.adler32(adler32),
        cacheDir,
        offline);
  }
}
