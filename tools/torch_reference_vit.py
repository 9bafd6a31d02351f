#!/usr/bin/python3
"""PyTorch reference for Graft's vision transformers (ViT-B/16 and DINOv2).

Builds each model with fixed-seed random weights in PyTorch, writes its state dict as a
.safetensors file (with the publisher's own tensor names), and a few inputs with the
features PyTorch computes for them as a second .safetensors file (NAME.io.safetensors: input,
features, and for DINOv2 clsmean). Graft's tests load the weights through its own
safetensors reader and compare its features to these, with no Python at test time.

    # the small fixtures under src/test/resources/vit/ (seconds)
    /usr/bin/python3 tools/torch_reference_vit.py fixtures src/test/resources/vit
    # full-size models at their native sizes (weights 90-350 MB each), for the documented check
    /usr/bin/python3 tools/torch_reference_vit.py full /tmp/vit-full [IMAGE.jpg ...]
    # PyTorch's forward throughput (2 threads), the PyTorch column beside Bench forward
    /usr/bin/python3 tools/torch_reference_vit.py bench vit-b16 [BATCH] [ITERS]

Models:
  * torchvision's VisionTransformer (vit_b_16's class): names conv_proj, class_token,
    encoder.pos_embedding, encoder.layers.encoder_layer_I.{ln_1, self_attention, ln_2, mlp.0, mlp.3},
    encoder.ln, heads.head. Features: the class token after encoder.ln (the classifier's input).
  * DINOv2, written from Meta's dinov2/models/vision_transformer.py and layers/ (Apache-2.0):
    patch_embed.proj, cls_token, pos_embed, register_tokens (the _reg models), mask_token,
    blocks.I.{norm1, attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}, norm.
    Features: x_norm_clstoken, and x_norm_clstoken ⊕ mean(x_norm_patchtokens).

Requires torch (1.13 tested) and torchvision (0.14); safetensors is written by hand
(8-byte little-endian header length, JSON header, raw little-endian data) when the
`safetensors` package is absent.
"""

import json
import math
import re
import struct
import sys
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- safetensors, by hand
def save_safetensors(tensors, path, metadata=None):
    """Writes {name: tensor} as safetensors (F32), names sorted, data contiguous."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        a = tensors[name].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4")  # noqa
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # the format aligns data to 8 bytes
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    tmp.replace(path)


# ---------------------------------------------------------------- DINOv2 (Meta's code, condensed)
class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # B HW C


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, init_values):
        super().__init__()
        norm = partial(nn.LayerNorm, eps=1e-6)
        self.norm1 = norm(dim)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim, init_values)
        self.norm2 = norm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls2 = LayerScale(dim, init_values)

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class DinoVisionTransformer(nn.Module):
    def __init__(self, img_size=518, patch_size=14, embed_dim=384, depth=12, num_heads=6,
                 mlp_ratio=4.0, init_values=1.0, num_register_tokens=0,
                 interpolate_offset=0.1, interpolate_antialias=False):
        super().__init__()
        self.patch_size = patch_size
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        num_patches = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.register_tokens = (
            nn.Parameter(torch.zeros(1, num_register_tokens, embed_dim)) if num_register_tokens else None
        )
        self.num_register_tokens = num_register_tokens
        self.interpolate_offset = interpolate_offset
        self.interpolate_antialias = interpolate_antialias
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio, init_values) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.mask_token = nn.Parameter(torch.zeros(1, embed_dim))

    def interpolate_pos_encoding(self, x, w, h):  # Meta's, unchanged
        previous_dtype = x.dtype
        npatch = x.shape[1] - 1
        N = self.pos_embed.shape[1] - 1
        if npatch == N and w == h:
            return self.pos_embed
        pos_embed = self.pos_embed.float()
        class_pos_embed = pos_embed[:, 0]
        patch_pos_embed = pos_embed[:, 1:]
        dim = x.shape[-1]
        w0 = w // self.patch_size
        h0 = h // self.patch_size
        M = int(math.sqrt(N))
        assert N == M * M
        kwargs = {}
        if self.interpolate_offset:
            sx = float(w0 + self.interpolate_offset) / M
            sy = float(h0 + self.interpolate_offset) / M
            kwargs["scale_factor"] = (sx, sy)
        else:
            kwargs["size"] = (w0, h0)
        patch_pos_embed = nn.functional.interpolate(
            patch_pos_embed.reshape(1, M, M, dim).permute(0, 3, 1, 2),
            mode="bicubic",
            antialias=self.interpolate_antialias,
            **kwargs,
        )
        assert (w0, h0) == patch_pos_embed.shape[-2:]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1).to(previous_dtype)

    def forward_features(self, x):
        B, nc, w, h = x.shape
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.interpolate_pos_encoding(x, w, h)
        if self.register_tokens is not None:
            x = torch.cat((x[:, :1], self.register_tokens.expand(x.shape[0], -1, -1), x[:, 1:]), dim=1)
        for blk in self.blocks:
            x = blk(x)
        x_norm = self.norm(x)
        return {
            "x_norm_clstoken": x_norm[:, 0],
            "x_norm_patchtokens": x_norm[:, self.num_register_tokens + 1:],
        }


def huggingface_names(sd):
    """Meta's DINOv2 state dict under Hugging Face transformers' Dinov2Model names (as in
    facebook/dinov2-small's model.safetensors): the fused qkv split into query, key, value."""
    out = {}
    for name, t in sd.items():
        m = re.fullmatch(r"blocks\.(\d+)\.(.+)", name)
        if m is None:
            top = {
                "cls_token": "embeddings.cls_token",
                "pos_embed": "embeddings.position_embeddings",
                "register_tokens": "embeddings.register_tokens",
                "mask_token": "embeddings.mask_token",
                "patch_embed.proj.weight": "embeddings.patch_embeddings.projection.weight",
                "patch_embed.proj.bias": "embeddings.patch_embeddings.projection.bias",
                "norm.weight": "layernorm.weight",
                "norm.bias": "layernorm.bias",
            }
            out[top[name]] = t
            continue
        layer, rest = f"encoder.layer.{m.group(1)}.", m.group(2)
        if rest.startswith("attn.qkv."):
            kind = rest.rsplit(".", 1)[1]
            for part, chunk in zip(("query", "key", "value"), t.chunk(3, dim=0)):
                out[f"{layer}attention.attention.{part}.{kind}"] = chunk.clone()
            continue
        rest = {
            "attn.proj.weight": "attention.output.dense.weight",
            "attn.proj.bias": "attention.output.dense.bias",
            "ls1.gamma": "layer_scale1.lambda1",
            "ls2.gamma": "layer_scale2.lambda1",
        }.get(rest, rest)  # norm1, norm2, mlp.fc1, mlp.fc2 keep their names
        out[layer + rest] = t
    return out


def dinov2_features(model, x):
    out = model.forward_features(x)
    cls = out["x_norm_clstoken"]
    return cls, torch.cat([cls, out["x_norm_patchtokens"].mean(dim=1)], dim=1)


# ---------------------------------------------------------------- torchvision ViT
def vit(image_size, patch, layers, heads, dim, mlp):
    from torchvision.models.vision_transformer import VisionTransformer

    return VisionTransformer(image_size, patch, layers, heads, dim, mlp)


def vit_features(model, x):
    """The pre-logits: vit_b_16's forward without heads (torchvision 0.14's own code path)."""
    x = model._process_input(x)
    x = torch.cat([model.class_token.expand(x.shape[0], -1, -1), x], dim=1)
    return model.encoder(x)[:, 0]


def randomize(model, seed):
    """Fixed-seed random weights with a spread that exercises every term (LayerNorm and layer-scale
    factors away from 1, biases away from 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            r = torch.randn(p.shape, generator=g)
            # LayerNorm weights are the only 1-D weights; layer-scale factors are called gamma
            if name.endswith("gamma") or (p.dim() == 1 and name.endswith("weight")):
                p.copy_(1 + 0.2 * r)
            elif p.dim() == 1:
                p.copy_(0.1 * r)
            elif "pos" in name or "token" in name:
                p.copy_(0.5 * r)
            else:
                fan_in = p[0].numel()
                p.copy_(r / math.sqrt(fan_in))
    return model.eval()


def inputs(n, size, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, size, size, generator=g)


# ---------------------------------------------------------------- the fixtures
def fixtures(out):
    """Small models, small inputs: a few hundred KB in all."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    with torch.no_grad():
        # torchvision ViT: 32 px, 8 px patches (4x4 grid), 2 layers, width 48, 3 heads, MLP 96
        m = randomize(vit(32, 8, 2, 3, 48, 96), 1)
        save_safetensors(m.state_dict(), out / "vit.safetensors")
        x = inputs(2, 32, 11)
        save_safetensors({"input": x, "features": vit_features(m, x)}, out / "vit-32.io.safetensors")
        # the same weights at 48 px: torchvision's interpolate_embeddings (bicubic, align_corners)
        from torchvision.models.vision_transformer import interpolate_embeddings

        m48 = vit(48, 8, 2, 3, 48, 96)
        m48.load_state_dict(interpolate_embeddings(48, 8, m.state_dict()))
        m48.eval()
        x48 = inputs(2, 48, 12)
        save_safetensors({"input": x48, "features": vit_features(m48, x48)}, out / "vit-48.io.safetensors")

        # DINOv2: positions stored for a 5x5 grid (35 px at 7 px patches), run at 28 px (4x4,
        # interpolated) and at 35 px (native); one variant with 2 register tokens
        for regs, name in ((0, "dinov2"), (2, "dinov2_reg")):
            d = randomize(
                DinoVisionTransformer(35, 7, 32, 2, 4, 4.0, 1.0, num_register_tokens=regs), 2 + regs
            )
            save_safetensors(d.state_dict(), out / f"{name}.safetensors")
            save_safetensors(huggingface_names(d.state_dict()), out / f"{name}_hf.safetensors")
            for size in (28, 35):
                x = inputs(2, size, 20 + size)
                cls, both = dinov2_features(d, x)
                save_safetensors(
                    {"input": x, "features": cls, "clsmean": both}, out / f"{name}-{size}.io.safetensors"
                )
    print("fixtures written to", out)


# ---------------------------------------------------------------- the full-size check
FULL = {
    # id: (builder, features, native size)
    "vit-b16": (lambda: vit(224, 16, 12, 12, 768, 3072), vit_features, 224),
    "dinov2-vits14": (lambda: DinoVisionTransformer(518, 14, 384, 12, 6, 4.0, 1e-5), None, 224),
    "dinov2-vitb14": (lambda: DinoVisionTransformer(518, 14, 768, 12, 12, 4.0, 1e-5), None, 224),
}


def load_images(paths, size):
    """Real photos through the publishers' evaluation transform: resize the short side to
    size/0.875 (bicubic for DINOv2, bilinear for torchvision), centre crop, ImageNet mean/std."""
    from PIL import Image
    import torchvision.transforms as T

    tf = T.Compose([
        T.Resize(int(size / 0.875)),
        T.CenterCrop(size),
        T.ToTensor(),
        T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    return torch.stack([tf(Image.open(p).convert("RGB")) for p in paths])


def full(out, images):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    for i, (name, (build, feats, size)) in enumerate(FULL.items()):
        with torch.no_grad():
            m = randomize(build(), 100 + i)
            save_safetensors(m.state_dict(), out / f"{name}.safetensors")
            x = load_images(images, size) if images else inputs(4, size, 200 + i)
            t = time.perf_counter()
            f = feats(m, x) if feats else dinov2_features(m, x)[0]
            dt = time.perf_counter() - t
            save_safetensors({"input": x, "features": f}, out / f"{name}.io.safetensors")
            print(f"{name}: {x.shape[0]} images at {size} px, PyTorch {x.shape[0] / dt:.2f} images/s")


def bench(model, batch, iters):
    """PyTorch's forward throughput for Bench's PyTorch column: 2 threads, random weights."""
    torch.set_num_threads(2)
    build, feats, size = FULL[model]
    with torch.no_grad():
        m = randomize(build(), 7)
        f = feats or (lambda mm, xx: dinov2_features(mm, xx)[0])
        x = inputs(batch, size, 1)
        f(m, x)  # warm-up
        t = time.perf_counter()
        for _ in range(iters):
            f(m, x)
        dt = time.perf_counter() - t
    print(f"{model}: PyTorch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch},"
          f" {size} px: {batch * iters / dt:.2f} images/s")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "bench":
        bench(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 8, int(sys.argv[4]) if len(sys.argv) > 4 else 2)
        sys.exit(0)
    if len(sys.argv) < 3 or sys.argv[1] not in ("fixtures", "full"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    else:
        full(sys.argv[2], sys.argv[3:])
