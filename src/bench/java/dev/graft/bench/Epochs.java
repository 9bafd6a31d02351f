package dev.graft.bench;

import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Weights;
import dev.graft.data.ImageBatches;
import dev.graft.data.ImageDataset;
import dev.graft.data.ImageFolder;
import dev.graft.data.ImageTransform;
import dev.graft.data.ResizeMode;
import dev.graft.features.FeatureKey;
import dev.graft.head.Head;
import dev.graft.metrics.EpochRecord;
import dev.graft.perf.NativeTuning;
import dev.graft.strategy.ActivationCache;
import dev.graft.strategy.FrozenPart;
import dev.graft.strategy.GraphOptions;
import dev.graft.strategy.Strategy;
import dev.graft.strategy.TrainingPlan;
import dev.graft.strategy.TransferGraph;
import dev.graft.train.Trainer;
import dev.graft.train.TrainingConfig;
import dev.graft.train.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Epoch cost per strategy with and without the activation cache, on a real base (random weights)
 * and real MNIST digits, through Graft's own TransferGraph + Trainer.
 *
 * <pre>
 * epochs BASE N   (BASE resnet50|vgg16|inceptionv3; N images; -Depochs=10, -Duncached.epochs=2, -Dsize)
 * </pre>
 */
final class Epochs {
  private Epochs() {}

  static void main(String[] args) throws Exception {
    NativeTuning.apply();
    String baseName = args.length > 0 ? args[0] : "resnet50";
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    int epochs = Integer.getInteger("epochs", 10);
    int uncachedEpochs = Integer.getInteger("uncached.epochs", 2);
    int batch = Integer.getInteger("batch", 16);
    Base base = Bases.catalog(baseName).weights(Weights.none()).load();
    int size = base.inputSize();
    Path tmp = Files.createTempDirectory("graft-bench-epochs");
    Featurize.mnist(tmp.resolve("images"), n);
    ImageDataset data = ImageFolder.of(tmp.resolve("images"));
    ImageTransform transform = ImageTransform.of(size, base.preprocessing());
    List<String> labels = data.labels();
    GraphOptions opts = GraphOptions.of(data.numClasses());

    // one forward pass of the (optimized) frozen base over the data: the yardstick
    TransferGraph probe =
        TransferGraph.assemble(
            base, Head.averagePooling(), Strategy.features(), opts.withEpochs(1));
    // one phase, cached: the plan feeds it from its own cache of this frozen part
    TrainingPlan probePlan = probe.plan(true, FeatureKey.Input.of(base, ResizeMode.CENTER_CROP));
    FrozenPart part =
        probePlan.frozenPart(probePlan.steps().get(0).feed().ownFrozenPart().orElseThrow());
    DataSetIterator it = ImageBatches.builder(data, transform).batchSize(batch).build();
    part.activations(it.next().getFeatures()); // warm-up
    it.reset();
    long t0 = System.nanoTime();
    long c0 = Bench.cpuNanos();
    while (it.hasNext()) {
      part.activations(it.next().getFeatures());
    }
    double fwd = (System.nanoTime() - t0) / 1e9;
    double fwdCpu = (Bench.cpuNanos() - c0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "# epochs %s %d px, %d images, batch %d, load %s%n",
        baseName,
        size,
        n,
        batch,
        Bench.load());
    System.out.printf(
        Locale.ROOT,
        "one forward pass of the frozen base over the data: %.1f s wall, %.1f s CPU%n",
        fwd,
        fwdCpu);

    List<String> which =
        List.of(System.getProperty("strategies", "features,frozen,finetune").split(","));
    for (Strategy s :
        List.of(
            Strategy.features(), Strategy.frozen(), Strategy.fineTune().unfreezeLastBlocks(1))) {
      if (!which.contains(s.name())) {
        continue;
      }
      for (boolean cached : List.of(true, false)) {
        int e = cached ? epochs : uncachedEpochs;
        TrainingConfig cfg =
            TrainingConfig.defaults(labels)
                .withBatchSize(batch)
                .withCacheFactory(ActivationCache.onDisk(tmp.resolve("cache")));
        TransferGraph tg =
            TransferGraph.assemble(base, Head.averagePooling().dense(32), s, opts.withEpochs(e));
        DataSetIterator train =
            ImageBatches.builder(data, transform).batchSize(batch).shuffle(1).build();
        long t1 = System.nanoTime();
        long c1 = Bench.cpuNanos();
        TrainingResult r;
        try {
          r =
              Trainer.train(
                  tg.plan(cached, FeatureKey.Input.of(base, ResizeMode.CENTER_CROP)),
                  train,
                  null,
                  cfg);
        } catch (RuntimeException ex) {
          System.out.printf(Locale.ROOT, "%-10s cache=%-5s FAILED: %s%n", s.name(), cached, ex);
          continue;
        }
        double wall = (System.nanoTime() - t1) / 1e9;
        double cpu = (Bench.cpuNanos() - c1) / 1e9;
        List<EpochRecord> ep = r.history().epochs();
        double later =
            ep.size() > 1
                ? ep.subList(1, ep.size()).stream()
                    .mapToDouble(EpochRecord::seconds)
                    .average()
                    .orElse(0)
                : 0;
        double scale = (double) epochs / e;
        System.out.printf(
            Locale.ROOT,
            "%-10s cache=%-5s %2d epochs: %.1f s wall (%.2fx one forward pass), %.1f s CPU (%.2fx); first epoch %.1f s, later epochs %.2f s each%s%n",
            s.name(),
            cached,
            e,
            wall,
            wall / fwd,
            cpu,
            cpu / fwdCpu,
            ep.get(0).seconds(),
            later,
            cached
                ? ""
                : String.format(
                    Locale.ROOT,
                    "; x%.0f for %d epochs = %.1f s wall (%.1fx)",
                    scale,
                    epochs,
                    wall * scale,
                    wall * scale / fwd));
      }
    }
    System.out.printf(Locale.ROOT, "peak RSS %d MB, load %s%n", Bench.peakRssMb(), Bench.load());
  }
}
