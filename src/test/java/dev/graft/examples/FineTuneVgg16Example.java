package dev.graft.examples;

import dev.graft.Graft;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.data.ImageDataset;
import dev.graft.data.Split;
import dev.graft.model.TransferModel;
import dev.graft.strategy.FineTune;
import dev.graft.strategy.Strategy;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Listing (b): the model of listing (a), its last four layers unfrozen and recompiled at a low
 * rate.
 *
 * <pre>
 * for layer in base_model.layers[-4:]:      # block5_conv1, block5_conv2, block5_conv3, block5_pool
 *     layer.trainable = True
 * model.compile(optimizer=Adam(1e-4), loss='categorical_crossentropy', metrics=['accuracy'])
 * model.fit(train, validation_data=validation, epochs=10)
 * </pre>
 *
 * <p>Keras's last four layers of VGG16 are three convolutions and a pooling layer; Graft counts
 * layers that have parameters, so {@code unfreezeLast(3)}. The head first trains alone as in
 * listing (a) (the warm-up epochs, Adam 1e-3), then base and head train together at Adam 1e-4 (head
 * multiplier 1, as the recompiled Keras model has one rate). Everything below {@code block5_conv1}
 * stays frozen, so its activations are computed once and cached.
 *
 * <p>Run: {@code FineTuneVgg16Example [image-folder]} (default: bundled MNIST digits).
 */
public final class FineTuneVgg16Example {
  private FineTuneVgg16Example() {}

  /** The strategy of listing (b), after {@code warmupEpochs} epochs of listing (a). */
  public static FineTune strategy(int warmupEpochs) {
    return Strategy.fineTune()
        .unfreezeLast(3) // block5_conv1..3 (+ block5_pool, which has no weights)
        .learningRate(1e-4) // Adam(1e-4)
        .headLearningRateMultiplier(1) // one rate for the recompiled model
        .warmupEpochs(warmupEpochs) // listing (a) first ...
        .warmupLearningRate(1e-3) // ... at Adam's default rate
        .cosineSchedule(false); // Keras: constant rate
  }

  /** Trains listing (a) for {@code warmupEpochs}, then listing (b) for {@code epochs}. */
  public static TransferModel train(
      Base vgg16, ImageDataset train, ImageDataset validation, int warmupEpochs, int epochs) {
    return Graft.base(vgg16)
        .head(FrozenVgg16Example.HEAD)
        .strategy(strategy(warmupEpochs))
        .epochs(warmupEpochs + epochs) // the warm-up counts within the total
        .fit(train, validation);
  }

  /** Runs the example with ImageNet VGG16 at 224 px. */
  public static void main(String[] args) throws IOException {
    Split data = ExampleData.load(args);
    Base vgg16 = Bases.vgg16().imagenet().load();
    TransferModel model = train(vgg16, data.train(), data.validation(), 10, 10);
    model.save(Path.of("vgg16-finetuned.graft"));
    org.slf4j.LoggerFactory.getLogger(FineTuneVgg16Example.class)
        .info("validation accuracy {}", model.info().metrics().get("validationAccuracy"));
  }
}
