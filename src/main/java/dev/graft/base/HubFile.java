package dev.graft.base;

import dev.graft.error.GraftException;
import dev.graft.io.Downloader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One {@code .safetensors} weight file published on the Hugging Face Hub, pinned to a commit of its
 * repository and to the SHA-256 its Git LFS pointer gives: what {@code .imagenet()} downloads for
 * the bases of the PyTorch ecosystem. Nothing but data is ever read from it ({@code safetensors}),
 * and only once its digest matches.
 *
 * <pre>{@code
 * new HubFile("timm/convnext_tiny.fb_in1k", "b43a6303c9fcf176d2d707478a128c2c91e93528",
 *     "model.safetensors", 114_374_272L,
 *     "08b9dc9c3a3a29421de7996761e176501896d1ae7fc3085cf56a643772329276", "Apache-2.0")
 * }</pre>
 *
 * @param repo the Hub repository, {@code owner/name}
 * @param revision the commit, 40 hex digits: the URL names it, so the file cannot move under Graft
 * @param file the file's name in the repository ({@code model.safetensors})
 * @param size its size in bytes, as the LFS pointer gives it (shown; the digest is what is checked)
 * @param sha256 its SHA-256, 64 hex digits
 * @param licence the licence the model card states
 */
public record HubFile(
    String repo, String revision, String file, long size, String sha256, String licence) {

  /** Where the Hub serves files from. */
  public static final String BASE_URL = "https://huggingface.co/";

  /** System property giving another base URL (a mirror) for Hub files. */
  public static final String BASE_URL_PROPERTY = "graft.hub.baseUrl";

  /** Environment variable giving another base URL (a mirror) for Hub files. */
  public static final String BASE_URL_ENV = "GRAFT_HUB_BASE_URL";

  private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,95}";

  /** Validates every part, so that a URL and a cache file name built from them are safe. */
  public HubFile {
    if (repo == null || !repo.matches(NAME + "/" + NAME) || repo.contains("..")) {
      throw new GraftException("a Hub repository is owner/name, got '" + repo + "'");
    }
    if (revision == null || !revision.matches("[0-9a-fA-F]{40}")) {
      throw new GraftException("a Hub revision is a 40-hex-digit commit, got '" + revision + "'");
    }
    if (file == null || !file.matches(NAME) || !file.endsWith(".safetensors")) {
      throw new GraftException("a Hub weight file is a .safetensors name, got '" + file + "'");
    }
    if (size <= 0) {
      throw new GraftException("a Hub file's size must be positive, got " + size);
    }
    if (sha256 == null || !sha256.matches("[0-9a-fA-F]{64}")) {
      throw new GraftException("a SHA-256 is 64 hex digits, got '" + sha256 + "'");
    }
    revision = revision.toLowerCase(Locale.ROOT);
    sha256 = sha256.toLowerCase(Locale.ROOT);
    licence = licence == null ? "" : licence;
  }

  /** The path under the base URL: {@code owner/name/resolve/<revision>/<file>}. */
  public String path() {
    return repo + "/resolve/" + revision + "/" + file;
  }

  /**
   * The name of the cached copy: repository, short commit and file, for example {@code
   * timm--convnext_tiny.fb_in1k--b43a6303c9fc--model.safetensors}.
   */
  public String fileName() {
    return repo.replace("/", "--") + "--" + revision.substring(0, 12) + "--" + file;
  }

  /** The download URL under {@code baseUrl} (a missing trailing slash is added). */
  public URI url(String baseUrl) {
    return Downloader.resolve(baseUrl, path());
  }

  /**
   * The base URL to download from: {@code explicit} if not null, else the system property {@value
   * #BASE_URL_PROPERTY}, else the environment variable {@value #BASE_URL_ENV}, else {@link
   * #BASE_URL}. A mirror holds each file under the Hub's own path.
   */
  public static String baseUrl(String explicit) {
    return Downloader.baseUrl(explicit, BASE_URL_PROPERTY, BASE_URL_ENV, BASE_URL);
  }

  /**
   * The cached, SHA-256-verified copy of this file, downloaded from {@code baseUrl} first if
   * needed.
   *
   * @throws GraftException offline with no good cached copy, the download failed or the bytes do
   *     not have the pinned digest (each naming the URL and the cache path)
   * @throws IOException the cache cannot be written
   */
  public Path fetch(String baseUrl, Path cacheDir, boolean offline) throws IOException {
    return Downloader.fetch(
        "pretrained weights (" + file + " of " + repo + ")",
        fileName(),
        url(baseUrl),
        Downloader.Checksum.sha256(sha256),
        cacheDir,
        offline);
  }

  /** {@code timm/convnext_tiny.fb_in1k@b43a6303c9fc/model.safetensors}. */
  @Override
  public String toString() {
    return repo + "@" + revision.substring(0, 12) + "/" + file;
  }
}
