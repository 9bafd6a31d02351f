package dev.graft.base;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where a base's weights come from.
 *
 * <pre>{@code
 * Bases.resnet50().weights(Weights.imagenet()).load();          // DL4J's zoo file, downloaded once
 * Bases.vgg16().weights(Weights.none()).seed(7).load();         // random init, reproducible
 * Bases.vgg16().weights(Weights.file(Path.of("vgg.zip"))).load();  // a DL4J zip of your own
 * Bases.inceptionV3().weights(Weights.keras(Path.of("inception_v3.h5"))).load();
 * Bases.catalog("convnext-tiny").weights(Weights.safetensors(Path.of("convnext_tiny.safetensors")))
 *     .load();                                                   // a PyTorch state dict
 * }</pre>
 */
public sealed interface Weights
    permits Weights.Imagenet,
        Weights.None,
        Weights.Dl4jZip,
        Weights.Keras,
        Weights.ImagenetKeras,
        Weights.ImagenetHub,
        Weights.Safetensors {

  /** The published ImageNet weights of the architecture. */
  static Weights imagenet() {
    return new Imagenet(null);
  }

  /**
   * ImageNet-style pretrained weights from a given file instead of the architecture's own (a
   * mirror, a newer release, or a test).
   */
  static Weights imagenet(PretrainedFile file) {
    return new Imagenet(Objects.requireNonNull(file, "file"));
  }

  /**
   * A publisher's {@code .safetensors} file on the Hugging Face Hub instead of the architecture's
   * own (another commit or repository, a mirror, or a test); fetched, SHA-256-verified and cached
   * as {@link #imagenet()} does for the bases of the PyTorch ecosystem.
   */
  static Weights imagenet(HubFile file) {
    return new ImagenetHub(Objects.requireNonNull(file, "file"));
  }

  /** Random initialisation from the builder's seed. */
  static Weights none() {
    return new None();
  }

  /** A local DL4J model zip (ComputationGraph or MultiLayerNetwork saved by ModelSerializer). */
  static Weights file(Path dl4jZip) {
    return new Dl4jZip(dl4jZip);
  }

  /** A Keras HDF5 weights file (InceptionV3's ImageNet weights exist only in this form). */
  static Weights keras(Path h5) {
    return new Keras(h5);
  }

  /**
   * A PyTorch state dict saved as {@code .safetensors}, under the tensor names of one of the
   * publishers the architecture knows (torchvision, timm, ...); for the bases of the PyTorch
   * ecosystem ({@code resnet50-torchvision}, {@code convnext-tiny}, ...).
   */
  static Weights safetensors(Path file) {
    return new Safetensors(file);
  }

  /**
   * Keras Applications' published ImageNet {@code .h5} file of the architecture (downloaded,
   * MD5-verified and cached like {@link #imagenet()}): InceptionV3's only ImageNet weights, an
   * alternative to the DL4J zoo files for VGG16 and ResNet50.
   */
  static Weights imagenetKeras() {
    return new ImagenetKeras();
  }

  /**
   * The weights named on the command line: {@code imagenet}, {@code imagenet-keras}, {@code none},
   * a {@code .h5} file (Keras), a {@code .safetensors} file (PyTorch) or any other path (a DL4J
   * zip). A pickled PyTorch file ({@code .pth}, {@code .pt}, {@code .bin}, {@code .ckpt}) is
   * refused with the one line that converts it: Graft never unpickles.
   */
  static Weights named(String name) {
    if (name == null || name.isBlank()) {
      throw new GraftException(
          "weights need a value: imagenet, none or a file, got '" + name + "'");
    }
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "imagenet" -> imagenet();
      case "imagenet-keras", "keras-imagenet" -> imagenetKeras();
      case "none", "random" -> none();
      default -> {
        Path p = Path.of(name);
        String lower = name.toLowerCase(Locale.ROOT);
        if (isPickle(lower)) {
          throw new GraftException(PICKLE_REFUSAL.formatted(name));
        }
        if (lower.endsWith(".safetensors")) {
          yield safetensors(p);
        }
        yield lower.endsWith(".h5") || lower.endsWith(".hdf5") ? keras(p) : file(p);
      }
    };
  }

  /**
   * Why a pickled PyTorch file is refused, and how to convert it ({@code %s}: the file). Loading a
   * pickle runs code from the file; {@code safetensors} is data only.
   */
  String PICKLE_REFUSAL =
      "%s is a pickled PyTorch file, which can run code when loaded; Graft reads PyTorch weights"
          + " only as .safetensors. Convert it once with: python3 -c \"import torch;"
          + " from safetensors.torch import save_file; sd=torch.load('FILE.pth',"
          + " map_location='cpu', weights_only=True); sd=sd.get('model', sd);"
          + " save_file({k: v.contiguous() for k, v in sd.items()}, 'FILE.safetensors')\""
          + " (pip install safetensors), then pass FILE.safetensors";

  /** Whether a lower-cased file name is a pickled PyTorch checkpoint by its extension. */
  static boolean isPickle(String lowerName) {
    return lowerName.endsWith(".pth")
        || lowerName.endsWith(".pt")
        || lowerName.endsWith(".bin")
        || lowerName.endsWith(".ckpt")
        || lowerName.endsWith(".pkl");
  }

  /**
   * Fills a catalog graph from these weights and says where they came from: each source loads
   * itself (called by {@link BaseBuilder#load()}).
   *
   * @throws IOException reading or downloading failed, or a checksum did not match
   */
  WeightLoading.Loaded loadInto(WeightLoading graph) throws IOException;

  /**
   * Whether the catalog graph these weights fill must follow Keras's layout (ResNet50's {@code
   * pool1_pad}) rather than DL4J's zoo layout.
   */
  default boolean kerasLayout(Architecture a) {
    return false;
  }

  /** Whether the graph starts from random parameters (nothing is read into it). */
  default boolean randomInit() {
    return false;
  }

  /**
   * The same weights with the local file they read (if any) mapped by {@code local}: how a Spark
   * executor finds a file shipped with {@code --files}.
   */
  default Weights withLocalFile(UnaryOperator<Path> local) {
    return this;
  }

  /**
   * Pretrained ImageNet weights.
   *
   * @param file the file to fetch, or {@code null} for the architecture's published one
   */
  record Imagenet(PretrainedFile file) implements Weights {
    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) throws IOException {
      PretrainedFile f = file != null ? file : g.architecture().imagenetFile();
      if (f == null && g.architecture().stateDictFile().isPresent()) {
        // PyTorch-published bases: the pinned Hub file, or the user brings one
        Optional<HubFile> hub = g.architecture().imagenetHubFile();
        if (hub.isEmpty()) {
          throw g.noImagenetDownload();
        }
        return g.hub(hub.get());
      }
      // InceptionV3: Keras's published .h5 only, verified by the MD5 Keras publishes
      return f == null ? g.kerasImagenet() : g.zoo(f);
    }

    @Override
    public boolean kerasLayout(Architecture a) {
      return file == null && a.imagenetFile() == null;
    }
  }

  /** Random initialisation from the builder's seed. */
  record None() implements Weights {
    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) {
      return g.random();
    }

    @Override
    public boolean randomInit() {
      return true;
    }
  }

  /**
   * A local DL4J model zip.
   *
   * @param path the zip written by ModelSerializer
   */
  record Dl4jZip(Path path) implements Weights {
    public Dl4jZip {
      Objects.requireNonNull(path, "path");
    }

    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) throws IOException {
      return g.dl4jZip(path);
    }

    @Override
    public Weights withLocalFile(UnaryOperator<Path> local) {
      return new Dl4jZip(local.apply(path));
    }
  }

  /**
   * A Keras HDF5 weights file, loaded by {@code dev.graft.base.keras.KerasWeights}.
   *
   * @param path the {@code .h5} file
   */
  record Keras(Path path) implements Weights {
    public Keras {
      Objects.requireNonNull(path, "path");
    }

    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) throws IOException {
      return g.keras(path);
    }

    @Override
    public boolean kerasLayout(Architecture a) {
      return true;
    }

    @Override
    public Weights withLocalFile(UnaryOperator<Path> local) {
      return new Keras(local.apply(path));
    }
  }

  /**
   * A publisher's {@code .safetensors} file on the Hugging Face Hub.
   *
   * @param file the file, its commit and SHA-256
   */
  record ImagenetHub(HubFile file) implements Weights {
    public ImagenetHub {
      Objects.requireNonNull(file, "file");
    }

    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) throws IOException {
      return g.hub(file);
    }
  }

  /** Keras Applications' published ImageNet {@code .h5} file of the architecture. */
  record ImagenetKeras() implements Weights {
    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) throws IOException {
      return g.kerasImagenet();
    }

    @Override
    public boolean kerasLayout(Architecture a) {
      return true;
    }
  }

  /**
   * A PyTorch state dict in a {@code .safetensors} file, loaded through the architecture's {@code
   * dev.graft.base.torch.StateDictMapping}.
   *
   * @param path the {@code .safetensors} file
   */
  record Safetensors(Path path) implements Weights {
    public Safetensors {
      Objects.requireNonNull(path, "path");
      if (isPickle(path.getFileName().toString().toLowerCase(Locale.ROOT))) {
        throw new GraftException(PICKLE_REFUSAL.formatted(path));
      }
    }

    @Override
    public WeightLoading.Loaded loadInto(WeightLoading g) throws IOException {
      return g.safetensors(path);
    }

    @Override
    public Weights withLocalFile(UnaryOperator<Path> local) {
      return new Safetensors(local.apply(path));
    }
  }
}
