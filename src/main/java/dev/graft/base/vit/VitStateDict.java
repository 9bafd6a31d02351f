package dev.graft.base.vit;

import dev.graft.base.torch.StateDictMapping;
import dev.graft.base.torch.StateDictMapping.Dialect;
import dev.graft.base.torch.TensorConversion;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The publishers' state dicts of a {@link VisionTransformer}: timm's and Meta's DINOv2 names, and
 * torchvision's ViT names, onto Graft's vertices and parameters.
 *
 * <pre>{@code
 * VitStateDict.mapping("dinov2-vits14", Spec.DINOV2_S14).load(graph, Path.of("model.safetensors"));
 * }</pre>
 */
public final class VitStateDict {
  private VitStateDict() {}

  /**
   * How a PyTorch state dict of this shape maps onto the graph. Canonical names are timm's, which
   * keep Meta's DINOv2 names ({@code patch_embed.proj}, {@code cls_token}, {@code pos_embed},
   * {@code register_tokens}, {@code blocks.I.norm1}, {@code blocks.I.attn.qkv}, {@code
   * blocks.I.attn.proj}, {@code blocks.I.ls1.gamma}, {@code blocks.I.norm2}, {@code
   * blocks.I.mlp.fc1}, {@code blocks.I.mlp.fc2}, {@code blocks.I.ls2.gamma}, {@code norm});
   * torchvision's ViT names ({@code conv_proj}, {@code class_token}, {@code encoder.pos_embedding},
   * {@code encoder.layers.encoder_layer_I.ln_1}, {@code self_attention.in_proj_weight}, {@code
   * self_attention.out_proj}, {@code ln_2}, {@code mlp.0}/{@code mlp.3} or the older {@code
   * mlp.linear_1}/{@code mlp.linear_2}, {@code encoder.ln}) are a second dialect; Hugging Face
   * transformers' DINOv2 names ({@link #fromHuggingFace}) a third, whose separate query, key and
   * value tensors fill the attention's parameters in place of the fused {@code qkv}. The classifier
   * ({@code head.*}, {@code heads.*}, {@code classifier.*}) and DINOv2's {@code mask_token} are
   * left aside.
   *
   * @param id the catalog id, for messages
   */
  public static StateDictMapping mapping(String id, VisionTransformer.Spec spec) {
    StateDictMapping.Builder m = StateDictMapping.builder(id);
    linear(m, "patch_embed.proj", VisionTransformer.PATCH_EMBED, "W", "b", TensorConversion.SAME);
    m.add("cls_token", VisionTransformer.TOKENS, "cls", TensorConversion.SAME);
    m.add("pos_embed", VisionTransformer.TOKENS, "pos", TensorConversion.SAME);
    if (spec.registers() > 0) {
      m.add("register_tokens", VisionTransformer.TOKENS, "reg", TensorConversion.SAME);
    }
    for (int i = 0; i < spec.depth(); i++) {
      String b = "blocks." + i + ".";
      norm(m, b + "norm1", VisionTransformer.vertex(i, "norm1"));
      String attn = VisionTransformer.vertex(i, "attn");
      String[] parts = {"q", "k", "v"};
      for (int p = 0; p < 3; p++) {
        m.add(b + "attn.qkv.weight", attn, parts[p] + "W", new QkvSlice(p));
        m.add(b + "attn.qkv.bias", attn, parts[p] + "B", new QkvSlice(p));
        // the split form (Hugging Face's query, key, value): a file holds one form or the other
        linear(
            m,
            b + "attn." + parts[p],
            attn,
            parts[p] + "W",
            parts[p] + "B",
            TensorConversion.TRANSPOSE);
      }
      linear(m, b + "attn.proj", attn, "projW", "projB", TensorConversion.TRANSPOSE);
      norm(m, b + "norm2", VisionTransformer.vertex(i, "norm2"));
      linear(
          m,
          b + "mlp.fc1",
          VisionTransformer.vertex(i, "mlp"),
          "fc1W",
          "fc1B",
          TensorConversion.TRANSPOSE);
      linear(
          m,
          b + "mlp.fc2",
          VisionTransformer.vertex(i, "mlp"),
          "fc2W",
          "fc2B",
          TensorConversion.TRANSPOSE);
      if (spec.layerScale() > 0) {
        m.add(b + "ls1.gamma", VisionTransformer.vertex(i, "ls1"), "gamma", TensorConversion.SAME);
        m.add(b + "ls2.gamma", VisionTransformer.vertex(i, "ls2"), "gamma", TensorConversion.SAME);
      }
    }
    norm(m, "norm", VisionTransformer.NORM);
    return m.dialect(
            new Dialect(
                "timm/Meta",
                n -> n,
                n -> n.startsWith("head.") || n.equals("mask_token") || n.startsWith("fc_norm.")))
        .dialect(
            new Dialect("torchvision", VitStateDict::fromTorchvision, n -> n.startsWith("heads.")))
        .dialect(
            new Dialect(
                "Hugging Face transformers",
                VitStateDict::fromHuggingFace,
                n -> {
                  String s = withoutHfPrefix(n);
                  return s.equals("embeddings.mask_token") || s.startsWith("classifier.");
                }))
        .build();
  }

  private static final Pattern TORCHVISION_LAYER =
      Pattern.compile("encoder\\.layers\\.encoder_layer_(\\d+)\\.(.+)");

  /** A torchvision ViT name as timm's, or null. */
  static String fromTorchvision(String n) {
    switch (n) {
      case "conv_proj.weight":
        return "patch_embed.proj.weight";
      case "conv_proj.bias":
        return "patch_embed.proj.bias";
      case "class_token":
        return "cls_token";
      case "encoder.pos_embedding":
        return "pos_embed";
      case "encoder.ln.weight":
        return "norm.weight";
      case "encoder.ln.bias":
        return "norm.bias";
      default:
        break;
    }
    Matcher x = TORCHVISION_LAYER.matcher(n);
    if (!x.matches()) {
      return null;
    }
    String rest =
        switch (x.group(2)) {
          case "ln_1.weight" -> "norm1.weight";
          case "ln_1.bias" -> "norm1.bias";
          case "self_attention.in_proj_weight" -> "attn.qkv.weight";
          case "self_attention.in_proj_bias" -> "attn.qkv.bias";
          case "self_attention.out_proj.weight" -> "attn.proj.weight";
          case "self_attention.out_proj.bias" -> "attn.proj.bias";
          case "ln_2.weight" -> "norm2.weight";
          case "ln_2.bias" -> "norm2.bias";
          case "mlp.0.weight", "mlp.linear_1.weight" -> "mlp.fc1.weight";
          case "mlp.0.bias", "mlp.linear_1.bias" -> "mlp.fc1.bias";
          case "mlp.3.weight", "mlp.linear_2.weight" -> "mlp.fc2.weight";
          case "mlp.3.bias", "mlp.linear_2.bias" -> "mlp.fc2.bias";
          default -> null;
        };
    return rest == null ? null : "blocks." + x.group(1) + "." + rest;
  }

  private static final Pattern HF_LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");

  /** A name of Hugging Face's {@code Dinov2ForImageClassification} less its {@code dinov2.}. */
  private static String withoutHfPrefix(String n) {
    return n.startsWith("dinov2.") ? n.substring("dinov2.".length()) : n;
  }

  /**
   * A Hugging Face transformers DINOv2 name ({@code Dinov2Model}, as in {@code
   * facebook/dinov2-small}; {@code Dinov2WithRegistersModel}) as timm's, or null. Their query, key
   * and value projections map to the split canonical form {@code blocks.I.attn.q/k/v}.
   */
  static String fromHuggingFace(String name) {
    String n = withoutHfPrefix(name);
    switch (n) {
      case "embeddings.cls_token":
        return "cls_token";
      case "embeddings.position_embeddings":
        return "pos_embed";
      case "embeddings.register_tokens":
        return "register_tokens";
      case "embeddings.patch_embeddings.projection.weight":
        return "patch_embed.proj.weight";
      case "embeddings.patch_embeddings.projection.bias":
        return "patch_embed.proj.bias";
      case "layernorm.weight":
        return "norm.weight";
      case "layernorm.bias":
        return "norm.bias";
      default:
        break;
    }
    Matcher x = HF_LAYER.matcher(n);
    if (!x.matches()) {
      return null;
    }
    String rest = x.group(2);
    String mapped =
        switch (rest) {
          case "attention.attention.query.weight" -> "attn.q.weight";
          case "attention.attention.query.bias" -> "attn.q.bias";
          case "attention.attention.key.weight" -> "attn.k.weight";
          case "attention.attention.key.bias" -> "attn.k.bias";
          case "attention.attention.value.weight" -> "attn.v.weight";
          case "attention.attention.value.bias" -> "attn.v.bias";
          case "attention.output.dense.weight" -> "attn.proj.weight";
          case "attention.output.dense.bias" -> "attn.proj.bias";
          case "layer_scale1.lambda1" -> "ls1.gamma";
          case "layer_scale2.lambda1" -> "ls2.gamma";
          case "norm1.weight",
                  "norm1.bias",
                  "norm2.weight",
                  "norm2.bias",
                  "mlp.fc1.weight",
                  "mlp.fc1.bias",
                  "mlp.fc2.weight",
                  "mlp.fc2.bias" ->
              rest;
          default -> null;
        };
    return mapped == null ? null : "blocks." + x.group(1) + "." + mapped;
  }

  private static void linear(
      StateDictMapping.Builder m,
      String module,
      String vertex,
      String weight,
      String bias,
      TensorConversion w) {
    m.add(module + ".weight", vertex, weight, w);
    m.add(module + ".bias", vertex, bias, TensorConversion.SAME);
  }

  private static void norm(StateDictMapping.Builder m, String module, String vertex) {
    m.add(module + ".weight", vertex, "gamma", TensorConversion.SAME);
    m.add(module + ".bias", vertex, "beta", TensorConversion.SAME);
  }
}
