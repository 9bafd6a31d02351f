package dev.graft.examples;

import dev.graft.Graft;
import dev.graft.base.Base;
import dev.graft.base.Bases;
import dev.graft.data.ImageDataset;
import dev.graft.data.Split;
import dev.graft.head.Head;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Listing (a): VGG16 as a frozen feature extractor with the classic dense head.
 *
 * <pre>
 * base_model = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
 * base_model.trainable = False
 * model = Sequential([base_model, Flatten(), Dense(256, activation='relu'),
 *                     Dense(10, activation='softmax')])
 * model.compile(optimizer=Adam(), loss='categorical_crossentropy', metrics=['accuracy'])
 * model.fit(train, validation_data=validation, epochs=10)
 * </pre>
 *
 * <p>In Graft the base is frozen layer by layer (DL4J {@code FrozenLayer}), the head is {@code
 * Flatten -> Dense(256, relu) -> Dense(classes, softmax)} (the class count comes from the data),
 * the optimiser Adam at Keras's default rate 1e-3. Because nothing below the head trains, the
 * base's output is computed once per image and the epochs train the head alone.
 *
 * <p>Run: {@code FrozenVgg16Example [image-folder]} (default: bundled MNIST digits).
 */
public final class FrozenVgg16Example {
  private FrozenVgg16Example() {}

  /** The head of listing (a). */
  public static final Head HEAD = Head.flatten().dense(256);

  /** Trains listing (a) on {@code vgg16}. */
  public static TransferModel train(
      Base vgg16, ImageDataset train, ImageDataset validation, int epochs) {
    return Graft.base(vgg16)
        .head(HEAD)
        .strategy(Strategy.frozen().learningRate(1e-3)) // Adam()
        .epochs(epochs)
        .fit(train, validation);
  }

  /** Runs the example with ImageNet VGG16 at 224 px. */
  public static void main(String[] args) throws IOException {
    Split data = ExampleData.load(args);
    Base vgg16 = Bases.vgg16().imagenet().load();
    TransferModel model = train(vgg16, data.train(), data.validation(), 10);
    model.save(Path.of("vgg16-frozen.graft"));
    org.slf4j.LoggerFactory.getLogger(FrozenVgg16Example.class)
        .info("validation accuracy {}", model.info().metrics().get("validationAccuracy"));
  }
}
