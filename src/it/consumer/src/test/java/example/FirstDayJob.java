package example;

import dev.graft.Graft;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.data.ImageFolder;
import dev.graft.data.Split;
import dev.graft.features.Featurizer;
import dev.graft.head.Head;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import java.nio.file.Path;

/**
 * A new user's first job, run in a fresh JVM by {@link FirstDayTest}: a folder of images and a base
 * of their own, featurized, then a head trained on the frozen base for three epochs, then saved.
 * Nothing is configured: what it logs is what the docs' binding gives.
 */
public final class FirstDayJob {
  private FirstDayJob() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    Split split = ImageFolder.of(work.resolve("digits")).split(0.75, 42);
    Base base = Bases.fromFile(work.resolve("my-cnn.zip")).inputSize(28)
        .preprocessing(Preprocessing.unit()).cut("pool2").load();
    try (Featurizer f = Featurizer.builder(base).batchSize(8).build()) {
      f.write(ImageFolder.of(work.resolve("digits")), work.resolve("features"), done -> {});
    }
    TransferModel model = Graft.base(base)
        .head(Head.averagePooling())
        .strategy(Strategy.frozen())
        .epochs(3)
        .fit(split.train(), split.validation());
    model.save(work.resolve("first-day.graft"));
  }
}
