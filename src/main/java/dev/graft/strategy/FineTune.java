package dev.graft.strategy;

import dev.graft.base.Block;
import dev.graft.error.GraftException;
import dev.graft.error.Ranges;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tuning: the top of the base trains too, at a low rate, with the head learning faster.
 *
 * <p>What unfreezes (pick one; default: the base's last block, or its last two layers with
 * parameters when it declares no blocks):
 *
 * <ul>
 *   <li>{@link #unfreezeLast(int)}: the last {@code n} layers that have parameters, in topological
 *       order. BatchNorm layers are not counted unless {@link #trainBatchNorm(boolean)} is on (they
 *       stay frozen anyway).
 *   <li>{@link #unfreezeLastBlocks(int)}: the last {@code n} blocks the base declares (VGG16's
 *       {@code block5}, ResNet50's stages, InceptionV3's {@code mixed} modules).
 *   <li>{@link #fromBlock(String)}: everything from the named block up.
 * </ul>
 *
 * <p>How (defaults after Keras's and fastai's advice): {@link #warmupEpochs(int) two head-only
 * epochs} first so that a random head does not wreck the pretrained features, then the unfrozen
 * layers at {@link #learningRate(double) Adam 1e-4} and the head {@link
 * #headLearningRateMultiplier(double) 10x} faster, with a linear warm-up over the first 10 % of
 * steps and a cosine decay to zero ({@link #cosineSchedule(boolean)}). BatchNorm stays in inference
 * mode (moving statistics, fixed scale and shift) unless {@link #trainBatchNorm(boolean)}.
 *
 * <p>Why one class of this size: it owns the whole fine-tune policy (which layers unfreeze, the two
 * phases, their learning rates and schedule, BatchNorm's mode) and its plan; most of the lines are
 * the documented options a user tunes.
 */
public final class FineTune implements Strategy {
  private static final Logger log = LoggerFactory.getLogger(FineTune.class);
  static final FineTune DEFAULT =
      new FineTune(Unfreeze.DEFAULT, 0, null, 1e-4, 10, 2, false, true, Double.NaN);

  /** Which way the unfrozen part is chosen. */
  enum Unfreeze {
    DEFAULT,
    LAST_LAYERS,
    LAST_BLOCKS,
    FROM_BLOCK,
    LAST_KERAS_LAYERS
  }

  private final Unfreeze unfreeze;
  private final int count;
  private final String block;
  private final double learningRate;
  private final double headMultiplier;
  private final int warmupEpochs;
  private final boolean trainBatchNorm;
  private final boolean cosine;
  private final double warmupRate;

  private FineTune(
      Unfreeze unfreeze,
      int count,
      String block,
      double learningRate,
      double headMultiplier,
      int warmupEpochs,
      boolean trainBatchNorm,
      boolean cosine,
      double warmupRate) {
    if (!Double.isNaN(warmupRate) && !(warmupRate > 0)) {
      throw new GraftException("warm-up learning rate must be positive, got " + warmupRate);
    }
    Ranges.learningRate(learningRate);
    if (!(headMultiplier > 0)) {
      throw new GraftException(
          "head learning-rate multiplier must be positive, got " + headMultiplier);
    }
    if (warmupEpochs < 0) {
      throw new GraftException("warm-up epochs must be >= 0, got " + warmupEpochs);
    }
    this.unfreeze = unfreeze;
    this.count = count;
    this.block = block;
    this.learningRate = learningRate;
    this.headMultiplier = headMultiplier;
    this.warmupEpochs = warmupEpochs;
    this.trainBatchNorm = trainBatchNorm;
    this.cosine = cosine;
    this.warmupRate = warmupRate;
  }

  /**
   * Unfreezes the last {@code n >= 1} layers that have parameters (BatchNorm not counted unless
   * trained).
   */
  public FineTune unfreezeLast(int n) {
    if (n < 1) {
      throw new GraftException("unfreezeLast needs at least one layer, got " + n);
    }
    return unfreezing(Unfreeze.LAST_LAYERS, n, null);
  }

  /**
   * Unfreezes the last {@code n >= 1} layers counted as Keras counts {@code model.layers[-n:]}:
   * every layer of the base below the cut, pooling, padding and activation layers included; those
   * of them with parameters train (BatchNorm only with {@link #trainBatchNorm(boolean)}). For VGG16
   * {@code unfreezeLastKerasLayers(4)} is Keras's {@code base.layers[-4:]}: block5_conv1..3 and
   * block5_pool, the same three convolutions as {@code unfreezeLast(3)}. The catalog bases are
   * built with Keras's layers and names, so the count matches Keras's; for a graph of your own it
   * counts that graph's layers.
   */
  public FineTune unfreezeLastKerasLayers(int n) {
    if (n < 1) {
      throw new GraftException("unfreezeLastKerasLayers needs at least one layer, got " + n);
    }
    return unfreezing(Unfreeze.LAST_KERAS_LAYERS, n, null);
  }

  /** Unfreezes the last {@code n >= 1} blocks the base declares. */
  public FineTune unfreezeLastBlocks(int n) {
    if (n < 1) {
      throw new GraftException("unfreezeLastBlocks needs at least one block, got " + n);
    }
    return unfreezing(Unfreeze.LAST_BLOCKS, n, null);
  }

  /** A copy with another choice of what unfreezes; every other setting kept. */
  private FineTune unfreezing(Unfreeze how, int n, String blockName) {
    return new FineTune(
        how,
        n,
        blockName,
        learningRate,
        headMultiplier,
        warmupEpochs,
        trainBatchNorm,
        cosine,
        warmupRate);
  }

  /** Unfreezes the named block and every block after it. */
  public FineTune fromBlock(String blockName) {
    Objects.requireNonNull(blockName, "blockName");
    return unfreezing(Unfreeze.FROM_BLOCK, 0, blockName);
  }

  /** Adam learning rate of the unfrozen base layers (default 1e-4). */
  public FineTune learningRate(double lr) {
    return new FineTune(
        unfreeze,
        count,
        block,
        lr,
        headMultiplier,
        warmupEpochs,
        trainBatchNorm,
        cosine,
        warmupRate);
  }

  /** How much faster the head learns than the base (default 10). */
  public FineTune headLearningRateMultiplier(double m) {
    return new FineTune(
        unfreeze, count, block, learningRate, m, warmupEpochs, trainBatchNorm, cosine, warmupRate);
  }

  /**
   * Head-only epochs before the base unfreezes (default 2). They count within the run's epochs: 10
   * epochs are 2 warm-up and 8 fine-tuning epochs.
   */
  public FineTune warmupEpochs(int epochs) {
    return new FineTune(
        unfreeze,
        count,
        block,
        learningRate,
        headMultiplier,
        epochs,
        trainBatchNorm,
        cosine,
        warmupRate);
  }

  /**
   * Whether unfrozen BatchNorm layers train (batch statistics, moving averages updated, scale and
   * shift learned). Default false: they stay in inference mode, as Keras advises for fine-tuning.
   */
  public FineTune trainBatchNorm(boolean train) {
    return new FineTune(
        unfreeze,
        count,
        block,
        learningRate,
        headMultiplier,
        warmupEpochs,
        train,
        cosine,
        warmupRate);
  }

  /**
   * Whether the fine-tuning phase uses linear warm-up then cosine decay (default true) or a
   * constant rate.
   */
  public FineTune cosineSchedule(boolean on) {
    return new FineTune(
        unfreeze,
        count,
        block,
        learningRate,
        headMultiplier,
        warmupEpochs,
        trainBatchNorm,
        on,
        warmupRate);
  }

  /**
   * Adam learning rate of the head during the head-only warm-up epochs (default: the head's
   * fine-tuning rate, {@code learningRate * headLearningRateMultiplier}). Set it to train the head
   * as a frozen-base run would (e.g. 1e-3) before fine-tuning at a low rate.
   */
  public FineTune warmupLearningRate(double lr) {
    return new FineTune(
        unfreeze,
        count,
        block,
        learningRate,
        headMultiplier,
        warmupEpochs,
        trainBatchNorm,
        cosine,
        lr);
  }

  /** The warm-up rate if set, else NaN (the head's fine-tuning rate applies). */
  public double warmupLearningRate() {
    return warmupRate;
  }

  @Override
  public double learningRate() {
    return learningRate;
  }

  /** The head's learning rate multiplier. */
  public double headLearningRateMultiplier() {
    return headMultiplier;
  }

  /** Head-only warm-up epochs. */
  public int warmupEpochs() {
    return warmupEpochs;
  }

  /** Whether unfrozen BatchNorm layers train. */
  public boolean trainBatchNorm() {
    return trainBatchNorm;
  }

  /** Whether the fine-tuning phase uses warm-up + cosine decay. */
  public boolean cosineSchedule() {
    return cosine;
  }

  Unfreeze unfreeze() {
    return unfreeze;
  }

  int count() {
    return count;
  }

  String block() {
    return block;
  }

  /**
   * Two phases that share {@link GraphOptions#epochs()} (the total): {@code warmup}, the head alone
   * for {@link #warmupEpochs()} of them (fewer when the total leaves the fine-tune phase less than
   * one; skipped when 0), then {@code finetune} for the rest, the unfrozen base layers at the
   * learning rate and the head {@link #headLearningRateMultiplier()} times faster, with the warm-up
   * + cosine schedule when on.
   */
  @Override
  public List<Phase> plan(GraphLayout layout, GraphOptions options) {
    List<String> unfrozen = unfrozenLayers(layout);
    double mainRate = options.learningRateOr(learningRate);
    double headRate = mainRate * headMultiplier;
    double warmRate = Double.isNaN(warmupRate) ? headRate : warmupRate;
    List<Phase> phases = new ArrayList<>();
    Map<String, Double> warm = new LinkedHashMap<>();
    layout.headLayers().forEach(h -> warm.put(h, warmRate));
    // The epochs are the run's total: the warm-up counts within them and leaves the fine-tune
    // phase at least one.
    int warmEpochs = Math.min(warmupEpochs, options.epochs() - 1);
    if (warmEpochs < warmupEpochs) {
      log.info(
          "{} epochs in all: {} head-only warm-up epoch(s) instead of {}, then {} fine-tuning",
          options.epochs(),
          warmEpochs,
          warmupEpochs,
          options.epochs() - warmEpochs);
    }
    if (warmEpochs > 0) {
      phases.add(new Phase("warmup", warm, warmEpochs, false, false));
    }
    Map<String, Double> all = new LinkedHashMap<>();
    unfrozen.forEach(u -> all.put(u, mainRate));
    warm.keySet().forEach(h -> all.put(h, headRate));
    phases.add(new Phase("finetune", all, options.epochs() - warmEpochs, cosine, true));
    log.info(
        "fine-tuning {} base layers from '{}' at {} (head at {})",
        unfrozen.size(),
        unfrozen.get(0),
        mainRate,
        headRate);
    return phases;
  }

  /** The base layers that train, in topological order. */
  private List<String> unfrozenLayers(GraphLayout layout) {
    List<String> candidates =
        layout.baseLayers().stream()
            .filter(v -> trainBatchNorm || !layout.batchNormLayers().contains(v))
            .toList();
    Map<String, List<String>> usable = new LinkedHashMap<>();
    for (Block b : layout.blocks()) {
      List<String> in = b.layers().stream().filter(candidates::contains).toList();
      if (!in.isEmpty()) {
        usable.put(b.name(), in);
      }
    }
    List<String> chosen = new ArrayList<>();
    List<String> blockNames = new ArrayList<>(usable.keySet());
    switch (unfreeze) {
      case LAST_LAYERS -> {
        if (count > candidates.size()) {
          throw new GraftException(
              "unfreezeLast("
                  + count
                  + ") but the base has only "
                  + candidates.size()
                  + " trainable layers with parameters below the cut");
        }
        chosen.addAll(candidates.subList(candidates.size() - count, candidates.size()));
      }
      case LAST_BLOCKS -> {
        if (count > blockNames.size()) {
          throw new GraftException(
              "unfreezeLastBlocks("
                  + count
                  + ") but the base has "
                  + blockNames.size()
                  + " blocks below the cut: "
                  + blockNames);
        }
        blockNames
            .subList(blockNames.size() - count, blockNames.size())
            .forEach(b -> chosen.addAll(usable.get(b)));
      }
      case LAST_KERAS_LAYERS -> {
        List<String> all = layout.allBaseLayers();
        if (count > all.size()) {
          throw new GraftException(
              "unfreezeLastKerasLayers("
                  + count
                  + ") but the base has only "
                  + all.size()
                  + " layers below the cut");
        }
        all.subList(all.size() - count, all.size()).stream()
            .filter(candidates::contains)
            .forEach(chosen::add);
      }
      case FROM_BLOCK -> {
        int i = blockNames.indexOf(block);
        if (i < 0) {
          throw new GraftException(
              "fromBlock(\"" + block + "\"): no such block below the cut; blocks: " + blockNames);
        }
        blockNames.subList(i, blockNames.size()).forEach(b -> chosen.addAll(usable.get(b)));
      }
      case DEFAULT -> {
        if (!blockNames.isEmpty()) {
          chosen.addAll(usable.get(blockNames.get(blockNames.size() - 1)));
        } else {
          chosen.addAll(candidates.subList(Math.max(0, candidates.size() - 2), candidates.size()));
        }
      }
    }
    if (chosen.isEmpty()) {
      throw new GraftException(
          "fine-tuning found no base layer to unfreeze (" + unfreezeDescription() + ")");
    }
    Set<String> picked = new LinkedHashSet<>(chosen);
    return layout.baseLayers().stream().filter(picked::contains).toList();
  }

  @Override
  public String name() {
    return "finetune";
  }

  /**
   * What unfreezes, e.g. {@code last 3 layers}, {@code last 1 blocks}, {@code from block mixed9}.
   */
  public String unfreezeDescription() {
    return switch (unfreeze) {
      case DEFAULT -> "last block";
      case LAST_LAYERS -> "last " + count + " layers";
      case LAST_BLOCKS -> "last " + count + " blocks";
      case FROM_BLOCK -> "from block " + block;
      case LAST_KERAS_LAYERS -> "last " + count + " layers, counted as Keras counts";
    };
  }

  @Override
  public FineTune withLearningRate(double lr) {
    return learningRate(lr);
  }

  @Override
  public String describe() {
    return "fine-tune "
        + unfreezeDescription()
        + " at Adam "
        + learningRate
        + " (head x"
        + headMultiplier
        + "), "
        + warmupEpochs
        + " warm-up epochs"
        + (Double.isNaN(warmupRate) ? "" : " at " + warmupRate)
        + (cosine ? ", warm-up + cosine schedule" : "")
        + (trainBatchNorm ? ", BatchNorm trained" : ", BatchNorm in inference mode");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FineTune f
        && f.unfreeze == unfreeze
        && f.count == count
        && Objects.equals(f.block, block)
        && f.learningRate == learningRate
        && f.headMultiplier == headMultiplier
        && f.warmupEpochs == warmupEpochs
        && f.trainBatchNorm == trainBatchNorm
        && f.cosine == cosine
        && Double.compare(f.warmupRate, warmupRate) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        unfreeze,
        count,
        block,
        learningRate,
        headMultiplier,
        warmupEpochs,
        trainBatchNorm,
        cosine,
        warmupRate);
  }

  @Override
  public String toString() {
    return describe();
  }
}
