package dev.graft.base;

import dev.graft.base.efficientnet.EfficientNetB0;
import dev.graft.base.inception.InceptionV3;
import dev.graft.base.keras.KerasImagenet;
import dev.graft.base.keras.KerasImagenet.KerasWeightFile;
import dev.graft.base.mobilenet.MobileNetV2;
import dev.graft.base.torch.ConvNeXt;
import dev.graft.base.torch.StateDictMapping;
import dev.graft.base.torch.TorchResNet;
import dev.graft.base.vit.VisionTransformer;
import dev.graft.base.vit.VitStateDict;
import dev.graft.error.GraftException;
import dev.graft.graph.Truncation;
import dev.graft.head.Head;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The catalog of pretrained architectures, each declared once, as data: id, input sizes,
 * preprocessing, cut points, blocks, default head, published weights (DL4J's zoo file and Keras's
 * {@code .h5} files) and the graph itself. A new base is one more constant here: the command line's
 * help, the default head, the weight download and the table-driven tests all read it from here.
 *
 * <pre>{@code
 * Architecture a = Architecture.named("resnet50");
 * ComputationGraph g = a.build(64, 42);   // random init at 64 px, ends in avg_pool [N, 2048]
 * }</pre>
 *
 * <p>Why one class of this size: it is the catalog, one entry per base with every fact about it
 * (sizes, preprocessing, cuts, blocks, weight files, default head, help text), so that adding a
 * base touches one place.
 */
public enum Architecture {
  /**
   * VGG16 (Simonyan and Zisserman 2014): 13 convolutions in 5 blocks. Feature layer {@code
   * block5_pool}, the output of Keras's {@code include_top=False} model; cut {@code fc2} keeps the
   * dense top (224 px only).
   */
  VGG16(
      "vgg16",
      224,
      32,
      Preprocessing::caffe,
      "block5_pool",
      List.of("block5_pool", "fc2"),
      List.of("fc1", "fc2"),
      List.of(
          new BlockEnd("block1", "block1_pool"),
          new BlockEnd("block2", "block2_pool"),
          new BlockEnd("block3", "block3_pool"),
          new BlockEnd("block4", "block4_pool"),
          new BlockEnd("block5", "block5_pool"),
          new BlockEnd("top", "fc2")),
      new PretrainedFile("models/vgg16_dl4j_inference.zip", 3501732770L),
      // Keras: without the dense top, and with fc1, fc2 and predictions (553,467,096 bytes)
      new KerasWeightFile(
          "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
          "6d6bbae143d832006294945121d1f1fc"),
      new KerasWeightFile(
          "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b"),
      // its features are small after five poolings: the classic Flatten -> Dense(256) head
      Head.flatten().dense(256).dropout(0.5),
      (input, size, seed, top, keras) -> Vgg16Graph.build(input, size, seed, top)),

  /**
   * ResNet50 v1 (He et al. 2015). Feature layer {@code res5c_branch}, the last activation (2048
   * channels) before the global average pooling {@code avg_pool}, which is also a cut point. Two
   * layouts: DL4J's zoo graph for the zoo's weights (and random init), and Keras's own, with {@code
   * pool1_pad} before the stem's max pooling, for Keras weights (see {@link #buildForKeras}).
   */
  RESNET50(
      "resnet50",
      224,
      32,
      Preprocessing::caffe,
      ResNet50Graph.LAST_ACTIVATION,
      List.of(ResNet50Graph.LAST_ACTIVATION, ResNet50Graph.POOL),
      List.of(),
      List.of(
          new BlockEnd("stem", "stem-maxpool1"),
          new BlockEnd("res2", "res2c_branch"),
          new BlockEnd("res3", "res3d_branch"),
          new BlockEnd("res4", "res4f_branch"),
          new BlockEnd("res5", ResNet50Graph.LAST_ACTIVATION)),
      new PretrainedFile("models/resnet50_dl4j_inference.v3.zip", 3914447815L),
      // Keras (tf.keras names conv1_conv, conv2_block1_1_conv, ...): without top, and with
      // predictions (102,967,424 bytes)
      new KerasWeightFile(
          "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
          "4d473c1dd8becc155b73f8504c6f6626"),
      new KerasWeightFile(
          "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
          "2cb95161c43110f7111970584f804107"),
      Head.averagePooling(),
      (input, size, seed, top, keras) -> ResNet50Graph.build(input, size, seed, keras)),

  /**
   * InceptionV3 (Szegedy et al. 2015) with Keras's layer names; graph by {@link InceptionV3}.
   * Feature layer {@code mixed10}; ImageNet weights come as a Keras {@code .h5} file.
   */
  INCEPTION_V3(
      "inceptionv3",
      299,
      InceptionV3.MIN_INPUT_SIZE,
      Preprocessing::inception,
      InceptionV3.FEATURE_LAYER,
      List.of(InceptionV3.FEATURE_LAYER),
      List.of(),
      inceptionBlocks(),
      null,
      // Keras: without top (87,910,968 bytes), and with predictions (96,112,376 bytes)
      new KerasWeightFile(
          "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
          "bcbd6486424b2319ff4ef7d526e38f63"),
      new KerasWeightFile(
          "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
          "9a0d58056eeedaa3f26cb7ebd46da564"),
      Head.averagePooling(),
      (input, size, seed, top, keras) -> InceptionV3.configuration(size, seed)),

  /**
   * MobileNetV2 (Sandler et al. 2018), width 1.0, with Keras's layer names; graph by {@link
   * MobileNetV2}. Feature layer {@code out_relu} (1280 channels); blocks {@code stem}, {@code
   * block_0} … {@code block_16}, {@code top}. ImageNet weights come as a Keras {@code .h5} file,
   * for which Keras publishes no hash (Graft does not download it; pass the file).
   */
  MOBILENET_V2(
      "mobilenetv2",
      MobileNetV2.DEFAULT_INPUT_SIZE,
      MobileNetV2.MIN_INPUT_SIZE,
      Preprocessing::inception,
      MobileNetV2.FEATURE_LAYER,
      List.of(MobileNetV2.FEATURE_LAYER),
      List.of(),
      blockEnds(MobileNetV2.blockNames(), MobileNetV2.blockEnds(1.0)),
      null,
      // Keras (alpha 1.0, 224 px): without top, and with predictions; Keras publishes no hash
      new KerasWeightFile(
          "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", null),
      new KerasWeightFile(
          "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", null),
      // Keras's top: global average pooling to the classifier
      Head.averagePooling(),
      (input, size, seed, top, keras) -> MobileNetV2.configuration(size, 1.0, seed)),

  /**
   * EfficientNetB0 (Tan and Le 2019) with Keras's layer names; graph by {@link EfficientNetB0}.
   * Feature layer {@code top_activation} (1280 channels); blocks {@code stem}, {@code block1a} …
   * {@code block7a}, {@code top}. Keras's in-model rescaling and normalisation are the base's
   * preprocessing ({@link Preprocessing#torch()}). ImageNet weights come as a Keras {@code .h5}.
   */
  EFFICIENTNET_B0(
      "efficientnetb0",
      EfficientNetB0.DEFAULT_INPUT_SIZE,
      EfficientNetB0.MIN_INPUT_SIZE,
      Preprocessing::torch,
      EfficientNetB0.FEATURE_LAYER,
      List.of(EfficientNetB0.FEATURE_LAYER),
      List.of(),
      blockEnds(EfficientNetB0.blockNames(), EfficientNetB0.blockEnds()),
      null,
      // Keras (efficientnet.py WEIGHTS_HASHES["b0"]): without top (its Normalization layer
      // included), and with predictions
      new KerasWeightFile(
          "efficientnetb0_notop.h5",
          "50bc09e76180e00e4465e1a485ddc09d",
          KerasImagenet.EFFICIENTNET_BASE_URL),
      new KerasWeightFile(
          "efficientnetb0.h5",
          "902e53a9f72be733fc0bcb005b3ebbac",
          KerasImagenet.EFFICIENTNET_BASE_URL),
      // Keras's top: global average pooling, dropout 0.2 (top_dropout), the classifier
      Head.averagePooling().dropout(0.2),
      (input, size, seed, top, keras) -> EfficientNetB0.configuration(size, seed)),

  /**
   * ResNet50 v1.5 as torchvision builds it (stride on the bottleneck's 3×3; not {@link #RESNET50},
   * Keras's v1); graph by {@link TorchResNet}. Feature layer {@code layer4_2} (2048 channels),
   * whose global average {@code avgpool} is what torchvision's {@code fc} reads; blocks {@code
   * stem}, {@code layer1} … {@code layer4}. Weights: a torchvision or timm {@code resnet50} state
   * dict as {@code .safetensors}; preprocessing torchvision's evaluation of its {@code
   * IMAGENET1K_V1} weights (ImageNet mean and std; short side to 256, centre 224, bilinear).
   */
  RESNET50_TORCHVISION(
      "resnet50-torchvision",
      224,
      TorchResNet.MIN_INPUT_SIZE,
      () -> imagenetEval(Interpolation.BILINEAR),
      TorchResNet.FEATURE_LAYER,
      List.of(TorchResNet.FEATURE_LAYER, TorchResNet.POOL),
      blockEnds(TorchResNet.blockNames(), TorchResNet.blockEnds(TorchResNet.RESNET50)),
      Head.averagePooling(),
      (input, size, seed, top, keras) -> TorchResNet.resnet50(size, seed),
      TorchResNet.mapping(TorchResNet.RESNET50),
      "resnet50.tv_in1k/model.safetensors from https://huggingface.co/timm/resnet50.tv_in1k"
          + " (torchvision's IMAGENET1K_V1 weights), or torchvision's resnet50-11ad3fa6.pth"
          + " converted to .safetensors",
      new HubFile(
          "timm/resnet50.tv_in1k",
          "78f3ecfdb38e06d9b8397f662e7ab8fee96026fa",
          "model.safetensors",
          102_469_840L,
          "5d061a3c593d795bfe682d9b152bafbcf550579873492def3515b46db1189888",
          "BSD-3-Clause (torchvision)")),

  /**
   * ConvNeXt-Tiny (Liu et al. 2022) as torchvision builds it; graph by {@link ConvNeXt}. Feature
   * layer {@code classifier_0}: the head's LayerNorm over the globally pooled 768 channels ({@code
   * [N, 768, 1, 1]}), what the classifier reads; cut {@code features_7_2} keeps the last block's
   * map. Blocks {@code stem}, {@code stage1} … {@code stage4}. Weights: a torchvision or timm
   * {@code convnext_tiny} state dict as {@code .safetensors}; preprocessing timm's for {@code
   * convnext_tiny.fb_in1k} (ImageNet mean and std; short side to 256, centre 224, bicubic).
   */
  CONVNEXT_TINY(
      "convnext-tiny",
      224,
      ConvNeXt.MIN_INPUT_SIZE,
      () -> imagenetEval(Interpolation.BICUBIC),
      ConvNeXt.FEATURE_LAYER,
      List.of(ConvNeXt.FEATURE_LAYER, ConvNeXt.lastBlock(ConvNeXt.TINY)),
      blockEnds(ConvNeXt.blockNames(), ConvNeXt.blockEnds(ConvNeXt.TINY)),
      Head.averagePooling(),
      (input, size, seed, top, keras) -> ConvNeXt.tiny(size, seed),
      ConvNeXt.mapping(ConvNeXt.TINY),
      "convnext_tiny.fb_in1k/model.safetensors from https://huggingface.co/timm/convnext_tiny.fb_in1k,"
          + " or torchvision's convnext_tiny-983f1562.pth converted to .safetensors",
      new HubFile(
          "timm/convnext_tiny.fb_in1k",
          "b43a6303c9fcf176d2d707478a128c2c91e93528",
          "model.safetensors",
          114_374_272L,
          "08b9dc9c3a3a29421de7996761e176501896d1ae7fc3085cf56a643772329276",
          "Apache-2.0 (Hugging Face model card)")),

  /**
   * ViT-B/16 (Dosovitskiy et al. 2020) as torchvision's {@code vit_b_16} and timm's {@code
   * vit_base_patch16_224.*}; graph by {@link VisionTransformer}. Features {@code pool}: the class
   * token after the final LayerNorm (what the classifier reads), [N, 768]; cut {@code
   * pool_cls_mean} adds the mean patch token. Blocks {@code stem}, {@code block0} … {@code
   * block11}. Other input sizes interpolate the position embeddings as torchvision does.
   */
  VIT_B16(
      "vit-b16",
      VisionTransformer.Spec.VIT_B16,
      Interpolation.BILINEAR,
      "torchvision's vit_b_16-c867db91.pth converted to .safetensors (ImageNet mean/std), or"
          + " timm's vit_base_patch16_224.augreg2_in21k_ft_in1k/model.safetensors from"
          + " https://huggingface.co/timm (then --preprocess inception: mean and std 0.5)",
      null),

  /**
   * DINOv2 ViT-S/14 (Oquab et al. 2023), self-supervised; graph by {@link VisionTransformer}.
   * Features {@code pool}: {@code x_norm_clstoken} [N, 384]; cut {@code pool_cls_mean}: class token
   * ⊕ mean patch token [N, 768], as DINOv2's linear evaluation. Position embeddings (stored at 518
   * px) are interpolated bicubically to the input size as DINOv2 does. Weights: timm's {@code
   * vit_small_patch14_dinov2.lvd142m} (Meta's names).
   */
  DINOV2_VITS14(
      "dinov2-vits14",
      VisionTransformer.Spec.DINOV2_S14,
      Interpolation.BICUBIC,
      "vit_small_patch14_dinov2.lvd142m/model.safetensors from"
          + " https://huggingface.co/timm/vit_small_patch14_dinov2.lvd142m",
      new HubFile(
          "timm/vit_small_patch14_dinov2.lvd142m",
          "4610ca143709d58a633b6397a74412c2c3842454",
          "model.safetensors",
          88_240_510L,
          "04d27f3400d059fc0cfd7d17dd1909a75bf3ea8fb3eeb48b97cb99e57ee20081",
          dinov2Licence())),

  /** DINOv2 ViT-B/14, as {@link #DINOV2_VITS14} at width 768 (features [N, 768]). */
  DINOV2_VITB14(
      "dinov2-vitb14",
      VisionTransformer.Spec.DINOV2_B14,
      Interpolation.BICUBIC,
      "vit_base_patch14_dinov2.lvd142m/model.safetensors from"
          + " https://huggingface.co/timm/vit_base_patch14_dinov2.lvd142m",
      new HubFile(
          "timm/vit_base_patch14_dinov2.lvd142m",
          "4685c99dabffe5affac90bd99dbffd25801ae58d",
          "model.safetensors",
          346_334_872L,
          "55cbb5d887b336d430e649c277b85a1429e724871f9d02ac16203235886d8c7b",
          dinov2Licence())),

  /** DINOv2 ViT-S/14 with 4 register tokens (Darcet et al. 2023), Meta's {@code _reg} model. */
  DINOV2_VITS14_REG(
      "dinov2-vits14-reg",
      VisionTransformer.Spec.DINOV2_S14.withRegisters(4),
      Interpolation.BICUBIC,
      "vit_small_patch14_reg4_dinov2.lvd142m/model.safetensors from"
          + " https://huggingface.co/timm/vit_small_patch14_reg4_dinov2.lvd142m",
      null),

  /** DINOv2 ViT-B/14 with 4 register tokens, Meta's {@code _reg} model. */
  DINOV2_VITB14_REG(
      "dinov2-vitb14-reg",
      VisionTransformer.Spec.DINOV2_B14.withRegisters(4),
      Interpolation.BICUBIC,
      "vit_base_patch14_reg4_dinov2.lvd142m/model.safetensors from"
          + " https://huggingface.co/timm/vit_base_patch14_reg4_dinov2.lvd142m",
      new HubFile(
          "timm/vit_base_patch14_reg4_dinov2.lvd142m",
          "3b06466a5548c52b8b98822e1390987695fcbf82",
          "model.safetensors",
          346_344_168L,
          "c24ecfb4a1d8ca79193f6b9efcffc461872a09ddac43a0931357e4802931a006",
          dinov2Licence()));

  /** Name of the single input of every catalog graph (Keras's name for it). */
  public static final String INPUT = "input_1";

  private final String id;
  private final int defaultInputSize;
  private final int minInputSize;
  private final Supplier<Preprocessing> preprocessing;
  private final String featureLayer;
  private final List<String> cutPoints;
  private final List<String> topLayers;
  private final List<BlockEnd> blockEnds;
  private final PretrainedFile imagenetFile;
  private final KerasWeightFile kerasNoTop;
  private final KerasWeightFile kerasTop;
  private final Head defaultHead;
  private final GraphFactory factory;
  private final StateDictMapping stateDict;
  private final String stateDictFile;
  private final HubFile imagenetHubFile;
  private volatile List<Block> blocks;

  /** A base whose weights come as DL4J or Keras files. */
  Architecture(
      String id,
      int defaultInputSize,
      int minInputSize,
      Supplier<Preprocessing> preprocessing,
      String featureLayer,
      List<String> cutPoints,
      List<String> topLayers,
      List<BlockEnd> blockEnds,
      PretrainedFile imagenetFile,
      KerasWeightFile kerasNoTop,
      KerasWeightFile kerasTop,
      Head defaultHead,
      GraphFactory factory) {
    this(
        new Facts(id, defaultInputSize, minInputSize, preprocessing, featureLayer, cutPoints),
        topLayers,
        blockEnds,
        new WeightFiles(imagenetFile, kerasNoTop, kerasTop, null, null, null),
        defaultHead,
        factory);
  }

  /**
   * A base of the PyTorch ecosystem: weights from a state dict in a {@code .safetensors} file the
   * user brings ({@code stateDictFile} says which), no dense top, no DL4J or Keras file.
   */
  Architecture(
      String id,
      int defaultInputSize,
      int minInputSize,
      Supplier<Preprocessing> preprocessing,
      String featureLayer,
      List<String> cutPoints,
      List<BlockEnd> blockEnds,
      Head defaultHead,
      GraphFactory factory,
      StateDictMapping stateDict,
      String stateDictFile,
      HubFile imagenetHubFile) {
    this(
        new Facts(id, defaultInputSize, minInputSize, preprocessing, featureLayer, cutPoints),
        List.of(),
        blockEnds,
        new WeightFiles(null, null, null, stateDict, stateDictFile, imagenetHubFile),
        defaultHead,
        factory);
  }

  /** What every base declares first. */
  private record Facts(
      String id,
      int defaultInputSize,
      int minInputSize,
      Supplier<Preprocessing> preprocessing,
      String featureLayer,
      List<String> cutPoints) {}

  /**
   * Where a base's weights come from: DL4J's and Keras's files, or a PyTorch state dict (the file
   * to bring, and the Hub file {@code .imagenet()} downloads where one is pinned).
   */
  private record WeightFiles(
      PretrainedFile imagenetFile,
      KerasWeightFile kerasNoTop,
      KerasWeightFile kerasTop,
      StateDictMapping stateDict,
      String stateDictFile,
      HubFile imagenetHubFile) {}

  Architecture(
      Facts f,
      List<String> topLayers,
      List<BlockEnd> blockEnds,
      WeightFiles files,
      Head defaultHead,
      GraphFactory factory) {
    this.id = f.id();
    this.defaultInputSize = f.defaultInputSize();
    this.minInputSize = f.minInputSize();
    this.preprocessing = f.preprocessing();
    this.featureLayer = f.featureLayer();
    this.cutPoints = f.cutPoints();
    this.topLayers = topLayers;
    this.blockEnds = blockEnds;
    this.imagenetFile = files.imagenetFile();
    this.kerasNoTop = files.kerasNoTop();
    this.kerasTop = files.kerasTop();
    this.defaultHead = defaultHead;
    this.factory = factory;
    this.stateDict = files.stateDict();
    this.stateDictFile = files.stateDictFile();
    this.imagenetHubFile = files.imagenetHubFile();
  }

  /**
   * A vision transformer of shape {@code spec} (see {@link VisionTransformer}): 224 px, ImageNet
   * mean and std evaluated at 256 → 224 with {@code interpolation} (torchvision's {@code vit_b_16}
   * bilinear; DINOv2's linear evaluation and Hugging Face's {@code facebook/dinov2-*} bicubic),
   * features {@code pool} (the class token) and cut {@code pool_cls_mean}, blocks {@code stem},
   * {@code block0} …, weights from a state dict the user brings.
   */
  Architecture(
      String id,
      VisionTransformer.Spec spec,
      Interpolation interpolation,
      String stateDictFile,
      HubFile imagenetHubFile) {
    this(
        id,
        224,
        spec.patch(),
        () -> imagenetEval(interpolation),
        VisionTransformer.POOL,
        List.of(VisionTransformer.POOL, VisionTransformer.POOL_CLS_MEAN),
        blockEnds(VisionTransformer.blockNames(spec), VisionTransformer.blockEnds(spec)),
        Head.averagePooling(),
        (input, size, seed, top, keras) -> VisionTransformer.configuration(input, spec, size, seed),
        VitStateDict.mapping(id, spec),
        stateDictFile,
        imagenetHubFile);
  }

  /** DINOv2's weights: Meta relicensed them from CC-BY-NC-4.0 to Apache-2.0 in 2023. */
  private static String dinov2Licence() {
    return "Apache-2.0 (Meta's DINOv2 release)";
  }

  /**
   * ImageNet mean and std, evaluated as torchvision, timm and DINOv2 publish their ImageNet
   * figures: the short side resized to 256 and the centre 224 kept (crop fraction 0.875, at any
   * input size).
   */
  private static Preprocessing imagenetEval(Interpolation interpolation) {
    return Preprocessing.torch().withCrop(0.875f, interpolation);
  }

  /**
   * The id used on the command line and in model files: "vgg16", "resnet50", "inceptionv3",
   * "mobilenetv2", "efficientnetb0", "resnet50-torchvision", "convnext-tiny".
   */
  public String id() {
    return id;
  }

  /** The input side in pixels the published weights were trained at. */
  public int defaultInputSize() {
    return defaultInputSize;
  }

  /** The smallest input side the graph accepts (feature maps shrink to 1x1 or more). */
  public int minInputSize() {
    return minInputSize;
  }

  /** The preprocessing the published weights expect. */
  public Preprocessing preprocessing() {
    return preprocessing.get();
  }

  /** The last convolutional output, the one global average pooling reads: [N, C, h, w]. */
  public String featureLayer() {
    return featureLayer;
  }

  /** All named cut points, {@link #featureLayer()} first. */
  public List<String> cutPoints() {
    return cutPoints;
  }

  /**
   * Layers of the dense top kept only when a cut beyond the feature layer asks for them (VGG16
   * {@code fc1}, {@code fc2}); such cuts work at {@link #defaultInputSize()} only.
   */
  public List<String> topLayers() {
    return topLayers;
  }

  /** Whether cutting at {@code layer} needs the dense top. */
  public boolean needsTop(String layer) {
    return topLayers.contains(layer);
  }

  /**
   * The ordered blocks of the graph up to its {@link #featureLayer()}, input to output (those of a
   * default {@link Base}).
   */
  public List<Block> blocks() {
    List<Block> b = blocks;
    if (b == null) {
      b =
          GraphFacts.blocks(
              Truncation.newGraph(
                  Truncation.truncate(configuration(minInputSize, 0L, false), featureLayer), false),
              blockEnds);
      blocks = b;
    }
    return b;
  }

  /** The block boundaries (block name, last vertex), in order, including the dense top's. */
  List<BlockEnd> blockEnds() {
    return blockEnds;
  }

  /**
   * The published ImageNet weight file (DL4J's zoo file), or {@code null} when there is none in
   * DL4J's format (InceptionV3: Keras {@code .h5} only).
   */
  public PretrainedFile imagenetFile() {
    return imagenetFile;
  }

  /**
   * Keras Applications' published ImageNet {@code .h5} file for this architecture, the one with the
   * dense top when {@code top} is set (a cut in {@link #topLayers()}); empty when Keras publishes
   * none.
   */
  public Optional<KerasWeightFile> kerasImagenetFile(boolean top) {
    return Optional.ofNullable(top ? kerasTop : kerasNoTop);
  }

  /**
   * How a PyTorch state dict maps onto this architecture's graph; empty for the bases whose weights
   * come as DL4J or Keras files.
   */
  public Optional<StateDictMapping> stateDictMapping() {
    return Optional.ofNullable(stateDict);
  }

  /**
   * Which published {@code .safetensors} file to download and pass as weights (bases of the PyTorch
   * ecosystem only; empty otherwise).
   */
  public Optional<String> stateDictFile() {
    return Optional.ofNullable(stateDictFile);
  }

  /**
   * The publisher's {@code .safetensors} file {@code .imagenet()} downloads (pinned commit and
   * SHA-256), where a stable one exists; empty for the bases whose file the user brings.
   */
  public Optional<HubFile> imagenetHubFile() {
    return Optional.ofNullable(imagenetHubFile);
  }

  /**
   * The head Graft puts on this base when none is given (Keras's applications' choice: global
   * average pooling straight to the softmax, with EfficientNet's dropout 0.2; VGG16 gets the
   * classic flatten + dense head).
   */
  public Head defaultHead() {
    return defaultHead;
  }

  /**
   * One line for help texts: id, default and smallest input size, preprocessing and feature layer,
   * e.g. {@code vgg16: 224 px (min 32), caffe preprocessing, features at block5_pool}.
   */
  public String summary() {
    return id
        + ": "
        + defaultInputSize
        + " px (min "
        + minInputSize
        + "), "
        + preprocessing().name()
        + " preprocessing, features at "
        + featureLayer;
  }

  /**
   * The catalog ids, in declaration order: "vgg16", "resnet50", "inceptionv3", "mobilenetv2",
   * "efficientnetb0".
   */
  public static List<String> ids() {
    List<String> ids = new ArrayList<>();
    for (Architecture x : values()) {
      ids.add(x.id);
    }
    return List.copyOf(ids);
  }

  /**
   * A freshly initialised graph without the ImageNet top, at {@code inputSize} pixels.
   *
   * @throws GraftException when {@code inputSize} is below {@link #minInputSize()}
   */
  public ComputationGraph build(int inputSize, long seed) {
    return build(inputSize, seed, false);
  }

  /**
   * A freshly initialised graph, with the dense top up to the last of {@link #topLayers()} when
   * {@code top} is set (then only at {@link #defaultInputSize()}).
   */
  public ComputationGraph build(int inputSize, long seed, boolean top) {
    return Truncation.newGraph(configuration(inputSize, seed, top), true);
  }

  /**
   * A freshly initialised graph without top in the layout Keras's weights of this architecture
   * need. The same as {@link #build(int, long)} except for ResNet50, whose Keras graph pads the
   * stem's max pooling ({@code pool1_pad}) where DL4J's zoo graph, and the zoo's weights, do not.
   */
  public ComputationGraph buildForKeras(int inputSize, long seed) {
    return Truncation.newGraph(configuration(inputSize, seed, false, true), true);
  }

  /** The configuration {@link #build(int, long, boolean)} initialises. */
  ComputationGraphConfiguration configuration(int inputSize, long seed, boolean top) {
    return configuration(inputSize, seed, top, false);
  }

  /**
   * The configuration of the graph, in the layout of Keras's weights when {@code keras} is set (see
   * {@link #buildForKeras}).
   */
  ComputationGraphConfiguration configuration(
      int inputSize, long seed, boolean top, boolean keras) {
    checkInputSize(inputSize);
    if (top && !topLayers.isEmpty() && inputSize != defaultInputSize) {
      throw new GraftException(
          id
              + "'s dense top ("
              + String.join(", ", topLayers)
              + ") needs "
              + defaultInputSize
              + " px input, got "
              + inputSize
              + "; cut at "
              + featureLayer
              + " for other sizes");
    }
    return factory.build(INPUT, inputSize, seed, top && !topLayers.isEmpty(), keras);
  }

  void checkInputSize(int inputSize) {
    if (inputSize < minInputSize) {
      throw new GraftException(
          id + " needs an input size of at least " + minInputSize + " px, got " + inputSize);
    }
  }

  /**
   * The architecture called {@code id} ("vgg16", "resnet50", "inceptionv3"; case and dashes or
   * underscores ignored).
   */
  public static Architecture named(String id) {
    Architecture a = find(id);
    if (a == null) {
      throw new GraftException(
          "unknown base: '" + id + "' (expected one of " + String.join(", ", ids()) + ")");
    }
    return a;
  }

  /** The architecture called {@code id}, or {@code null}. */
  public static Architecture find(String id) {
    if (id == null) {
      return null;
    }
    String key = normalise(id);
    for (Architecture a : values()) {
      if (normalise(a.id).equals(key)) {
        return a;
      }
    }
    return null;
  }

  private static String normalise(String id) {
    return id.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
  }

  /** A block: its name and the last graph vertex in it. */
  record BlockEnd(String name, String lastVertex) {}

  @FunctionalInterface
  private interface GraphFactory {
    ComputationGraphConfiguration build(
        String input, int inputSize, long seed, boolean top, boolean kerasLayout);
  }

  private static List<BlockEnd> blockEnds(List<String> names, List<String> lastVertices) {
    List<BlockEnd> ends = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      ends.add(new BlockEnd(names.get(i), lastVertices.get(i)));
    }
    return List.copyOf(ends);
  }

  private static List<BlockEnd> inceptionBlocks() {
    List<BlockEnd> ends = new ArrayList<>();
    ends.add(new BlockEnd("stem", "max_pooling2d_2"));
    for (int i = 0; i <= 10; i++) {
      ends.add(new BlockEnd("mixed" + i, "mixed" + i));
    }
    return List.copyOf(ends);
  }
}
