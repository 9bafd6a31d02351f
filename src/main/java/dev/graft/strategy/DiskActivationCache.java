package dev.graft.strategy;

import dev.graft.error.GraftException;
import dev.graft.features.FeatureCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ActivationCache} on disk, through {@link FeatureCache}: boundary activations survive the
 * run, so a second training run (or a second phase at the same boundary) on the same images pays no
 * forward pass through the frozen part.
 *
 * <p>Keys: the cache directory comes from {@link FrozenPart#key()} (base, weights, input, cut,
 * boundary) and the boundary output's name; each example is identified by the SHA-256 of its
 * preprocessed pixels as the data iterator delivers them, so a change of image, preprocessing,
 * input size or resize mode misses. Only labels and content hashes stay on the heap; activations
 * are read from memory-mapped files batch by batch.
 *
 * <pre>{@code
 * TrainingConfig cfg = TrainingConfig.defaults(labels)
 *     .withCacheFactory(ActivationCache.onDisk(Path.of("graft-cache")));
 * Trainer.train(transferGraph.plan(true, FeatureKey.Input.of(base, resize)), train, val, cfg);
 * }</pre>
 */
public final class DiskActivationCache implements ActivationCache {
  private static final Logger log = LoggerFactory.getLogger(DiskActivationCache.class);

  private final FeatureCache[] caches; // one per boundary output
  private final List<String> hashes; // per example
  private final INDArray labels; // [N, classes]
  private final long bytesPerExample;

  private DiskActivationCache(FeatureCache[] caches, List<String> hashes, INDArray labels) {
    this.caches = caches;
    this.hashes = hashes;
    this.labels = labels;
    long b = 0;
    for (FeatureCache c : caches) {
      b += 4L * c.itemShape().map(s -> Arrays.stream(s).reduce(1, (x, y) -> x * y)).orElse(0L);
    }
    this.bytesPerExample = b;
  }

  /**
   * Fills (or reuses) the on-disk cache of {@code part} for every example of {@code data}.
   *
   * @param root directory holding feature caches
   * @param part the frozen part
   * @param data images and one-hot labels; reset first, read to the end
   * @return the cache
   * @throws IOException if the cache cannot be read or written
   */
  public static DiskActivationCache build(Path root, FrozenPart part, DataSetIterator data)
      throws IOException {
    long start = System.nanoTime();
    List<String> outputs = part.outputs();
    FeatureCache[] caches = new FeatureCache[outputs.size()];
    try {
      for (int i = 0; i < caches.length; i++) {
        caches[i] = FeatureCache.open(root, part.key().output(outputs.get(i)));
      }
      List<String> hashes = new ArrayList<>();
      List<INDArray> labelChunks = new ArrayList<>();
      int computed = 0;
      if (data.resetSupported()) {
        data.reset();
      }
      while (data.hasNext()) {
        DataSet ds = data.next();
        INDArray images = ds.getFeatures();
        List<String> batchHashes = pixelHashes(images);
        hashes.addAll(batchHashes);
        labelChunks.add(ds.getLabels().castTo(DataType.FLOAT).dup('c'));
        List<Integer> missing = new ArrayList<>();
        for (int r = 0; r < batchHashes.size(); r++) {
          for (FeatureCache c : caches) {
            if (!c.contains(batchHashes.get(r))) {
              missing.add(r);
              break;
            }
          }
        }
        if (missing.isEmpty()) {
          continue;
        }
        INDArray in =
            missing.size() == batchHashes.size()
                ? images
                : images.get(
                    NDArrayIndex.indices(missing.stream().mapToLong(Integer::longValue).toArray()));
        INDArray[] acts = part.activations(in);
        List<String> missingHashes = missing.stream().map(batchHashes::get).toList();
        for (int i = 0; i < caches.length; i++) {
          caches[i].putAll(missingHashes, acts[i]);
          if (acts[i].closeable()) {
            acts[i].close(); // on disk now; free the native memory before the next batch
          }
        }
        computed += missing.size();
      }
      if (labelChunks.isEmpty()) {
        throw new GraftException("cannot cache activations of an empty dataset");
      }
      INDArray labels =
          labelChunks.size() == 1
              ? labelChunks.get(0)
              : Nd4j.concat(0, labelChunks.toArray(INDArray[]::new));
      DiskActivationCache cache = new DiskActivationCache(caches, hashes, labels);
      log.info(
          "activations at {} for {} examples: {} computed, {} read from the disk cache {} ({} MB) in {} s",
          outputs,
          hashes.size(),
          computed,
          hashes.size() - computed,
          root,
          String.format(Locale.ROOT, "%.1f", cache.bytes() / 1e6),
          String.format(Locale.ROOT, "%.2f", (System.nanoTime() - start) / 1e9));
      return cache;
    } catch (IOException | RuntimeException e) {
      for (FeatureCache c : caches) {
        if (c != null) {
          c.close();
        }
      }
      throw e;
    }
  }

  /** SHA-256 of each example's float32 pixels (C order), as hex. */
  static List<String> pixelHashes(INDArray images) {
    INDArray f = images.castTo(DataType.FLOAT).dup('c');
    long n = f.size(0);
    int rowBytes = Math.toIntExact(f.length() / n * 4);
    ByteBuffer all = f.data().asNio();
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    List<String> out = new ArrayList<>((int) n);
    HexFormat hex = HexFormat.of();
    for (int r = 0; r < n; r++) {
      ByteBuffer row = all.duplicate();
      row.limit((r + 1) * rowBytes).position(r * rowBytes);
      md.update(row);
      out.add(hex.formatHex(md.digest()));
    }
    return out;
  }

  @Override
  public int size() {
    return hashes.size();
  }

  @Override
  public int numClasses() {
    return (int) labels.size(1);
  }

  @Override
  public MultiDataSet batch(int[] indices) {
    List<String> h = new ArrayList<>(indices.length);
    for (int i : indices) {
      h.add(hashes.get(i));
    }
    INDArray[] f = new INDArray[caches.length];
    for (int i = 0; i < caches.length; i++) {
      f[i] = caches[i].rows(h);
    }
    INDArray l = Nd4j.pullRows(labels, 1, indices);
    return new org.nd4j.linalg.dataset.MultiDataSet(f, new INDArray[] {l});
  }

  @Override
  public long bytes() {
    return bytesPerExample * hashes.size() + labels.length() * 4L;
  }

  @Override
  public void close() {
    for (FeatureCache c : caches) {
      try {
        c.close();
      } catch (IOException e) {
        throw new UncheckedIOException("closing feature cache " + c.directory(), e);
      }
    }
    labels.close();
  }
}
