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
 * Listing (c): VGG16 frozen, global average pooling instead of flatten, a smaller dense layer.
 *
 * <pre>
 * base_model = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
 * base_model.trainable = False
 * model = Sequential([base_model, GlobalAveragePooling2D(), Dense(128, activation='relu'),
 *                     Dense(10, activation='softmax')])
 * </pre>
 *
 * <p>Global average pooling reduces VGG16's 7x7x512 map to 512 numbers (Flatten: 25,088), so the
 * head has 66k weights instead of 6.4M and does not depend on the input size. The pooled features
 * are what Graft caches: every epoch after the first costs the head only.
 *
 * <p>Run: {@code GapVgg16Example [image-folder]} (default: bundled MNIST digits).
 */
public final class GapVgg16Example {
  private GapVgg16Example() {}

  /** The head of listing (c). */
  public static final Head HEAD = Head.averagePooling().dense(128);

  /** Trains listing (c) on {@code vgg16}. */
  public static TransferModel train(
      Base vgg16, ImageDataset train, ImageDataset validation, int epochs) {
    return Graft.base(vgg16)
        .head(HEAD)
        .strategy(Strategy.frozen().learningRate(1e-3))
        .epochs(epochs)
        .fit(train, validation);
  }

  /** Runs the example with ImageNet VGG16 at 224 px. */
  public static void main(String[] args) throws IOException {
    Split data = ExampleData.load(args);
    Base vgg16 = Bases.vgg16().imagenet().load();
    TransferModel model = train(vgg16, data.train(), data.validation(), 10);
    model.save(Path.of("vgg16-gap.graft"));
    org.slf4j.LoggerFactory.getLogger(GapVgg16Example.class)
        .info("validation accuracy {}", model.info().metrics().get("validationAccuracy"));
  }
}
