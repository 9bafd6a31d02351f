package dev.graft.strategy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ActivationCache} on the heap of ND4J: each boundary activation is kept as one {@code [N,
 * features]} matrix, and minibatches are gathered with {@code pullRows}.
 */
public final class InMemoryActivationCache implements ActivationCache {
  private static final Logger log = LoggerFactory.getLogger(InMemoryActivationCache.class);

  private final INDArray[] features; // each [N, prod(shape)]
  private final long[][] shapes; // per-example shape of each feature
  private final INDArray labels; // [N, classes]

  private InMemoryActivationCache(INDArray[] features, long[][] shapes, INDArray labels) {
    this.features = features;
    this.shapes = shapes;
    this.labels = labels;
  }

  /**
   * Runs {@code part} over {@code data} and keeps the result in memory.
   *
   * @param part the frozen part
   * @param data images and one-hot labels; reset first, read to the end
   */
  public static InMemoryActivationCache build(FrozenPart part, DataSetIterator data) {
    long start = System.nanoTime();
    int outputs = part.outputs().size();
    List<List<INDArray>> chunks = new ArrayList<>();
    for (int i = 0; i < outputs; i++) {
      chunks.add(new ArrayList<>());
    }
    List<INDArray> labelChunks = new ArrayList<>();
    long[][] shapes = new long[outputs][];
    if (data.resetSupported()) {
      data.reset();
    }
    while (data.hasNext()) {
      DataSet ds = data.next();
      INDArray[] acts = part.activations(ds.getFeatures());
      for (int i = 0; i < outputs; i++) {
        INDArray a = acts[i];
        shapes[i] = Arrays.copyOfRange(a.shape(), 1, a.rank());
        chunks
            .get(i)
            .add(a.castTo(DataType.FLOAT).reshape('c', a.size(0), a.length() / a.size(0)).dup('c'));
      }
      labelChunks.add(ds.getLabels().castTo(DataType.FLOAT).dup('c'));
    }
    if (labelChunks.isEmpty()) {
      throw new dev.graft.error.GraftException("cannot cache activations of an empty dataset");
    }
    INDArray[] features = new INDArray[outputs];
    for (int i = 0; i < outputs; i++) {
      List<INDArray> c = chunks.get(i);
      features[i] = c.size() == 1 ? c.get(0) : Nd4j.concat(0, c.toArray(INDArray[]::new));
    }
    INDArray labels =
        labelChunks.size() == 1
            ? labelChunks.get(0)
            : Nd4j.concat(0, labelChunks.toArray(INDArray[]::new));
    InMemoryActivationCache cache = new InMemoryActivationCache(features, shapes, labels);
    log.info(
        "cached activations at {} for {} examples ({} MB) in {} s",
        part.outputs(),
        cache.size(),
        String.format(java.util.Locale.ROOT, "%.1f", cache.bytes() / 1e6),
        String.format(java.util.Locale.ROOT, "%.2f", (System.nanoTime() - start) / 1e9));
    return cache;
  }

  /**
   * Derives a cache from another: runs {@code bridge} (a frozen graph from the source's boundary to
   * a later one) over the source's examples in order and keeps the result with the labels.
   *
   * @param source activations at a deeper freeze boundary
   * @param bridge inference graph from (some of) the source's activations to the new boundary
   * @param inputIndices for each bridge input, the index of the source activation feeding it
   * @param outputs names of the new boundary activations, for logging
   * @param batchSize examples per forward pass
   */
  public static InMemoryActivationCache derive(
      ActivationCache source,
      org.deeplearning4j.nn.graph.ComputationGraph bridge,
      int[] inputIndices,
      List<String> outputs,
      int batchSize) {
    long start = System.nanoTime();
    int n = source.size();
    List<List<INDArray>> chunks = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      chunks.add(new ArrayList<>());
    }
    List<INDArray> labelChunks = new ArrayList<>();
    long[][] shapes = new long[outputs.size()][];
    for (int startIdx = 0; startIdx < n; startIdx += batchSize) {
      int[] idx = new int[Math.min(batchSize, n - startIdx)];
      for (int i = 0; i < idx.length; i++) {
        idx[i] = startIdx + i;
      }
      MultiDataSet mds = source.batch(idx);
      INDArray[] in = new INDArray[inputIndices.length];
      for (int i = 0; i < in.length; i++) {
        in[i] = mds.getFeatures(inputIndices[i]);
      }
      INDArray[] acts = bridge.output(false, in);
      for (int i = 0; i < outputs.size(); i++) {
        INDArray a = acts[i];
        shapes[i] = Arrays.copyOfRange(a.shape(), 1, a.rank());
        chunks
            .get(i)
            .add(a.castTo(DataType.FLOAT).reshape('c', a.size(0), a.length() / a.size(0)).dup('c'));
      }
      labelChunks.add(mds.getLabels(0).dup('c'));
    }
    INDArray[] features = new INDArray[outputs.size()];
    for (int i = 0; i < features.length; i++) {
      features[i] = Nd4j.concat(0, chunks.get(i).toArray(INDArray[]::new));
    }
    InMemoryActivationCache cache =
        new InMemoryActivationCache(
            features, shapes, Nd4j.concat(0, labelChunks.toArray(INDArray[]::new)));
    log.info(
        "derived activations at {} for {} examples from a cached boundary in {} s",
        outputs,
        n,
        String.format(java.util.Locale.ROOT, "%.2f", (System.nanoTime() - start) / 1e9));
    return cache;
  }

  @Override
  public int size() {
    return (int) labels.size(0);
  }

  @Override
  public int numClasses() {
    return (int) labels.size(1);
  }

  @Override
  public MultiDataSet batch(int[] indices) {
    INDArray[] f = new INDArray[features.length];
    for (int i = 0; i < features.length; i++) {
      INDArray rows = Nd4j.pullRows(features[i], 1, indices);
      long[] shape = new long[shapes[i].length + 1];
      shape[0] = indices.length;
      System.arraycopy(shapes[i], 0, shape, 1, shapes[i].length);
      f[i] = rows.reshape('c', shape);
    }
    INDArray l = Nd4j.pullRows(labels, 1, indices);
    return new org.nd4j.linalg.dataset.MultiDataSet(f, new INDArray[] {l});
  }

  @Override
  public long bytes() {
    long b = labels.length() * 4L;
    for (INDArray f : features) {
      b += f.length() * 4L;
    }
    return b;
  }

  @Override
  public void close() {
    for (INDArray f : features) {
      f.close();
    }
    labels.close();
  }
}
