#!/usr/bin/python3
"""PyTorch references for Graft's bases of the PyTorch ecosystem.

Builds a model with torchvision's own code and fixed-seed random weights (BatchNorm statistics,
norm affines and ConvNeXt's layer scale randomised too, so that none is trivial), writes its state
dict as .safetensors under the publisher's names, and writes the inputs and the features the
publisher's model hands its classifier:

  OUT/NAME.safetensors      the state dict (torchvision's names, or timm's with --names timm)
  OUT/NAME.io.safetensors   "input" [N, 3, S, S] (already preprocessed) and "features" [N, F];
                            with --photos also "photo_input" / "photo_features" (each photo
                            preprocessed as the publisher evaluates: short side to int(S / 0.875),
                            centre S, ImageNet mean/std; bilinear for ResNet, bicubic for ConvNeXt;
                            torchvision's float resize) and "photo_input_pil" / "photo_features_pil"
                            (the same through PIL, 8-bit, as users run it). The photos' paths are in
                            the metadata ("photos"); TorchParityTest runs them through Graft's own
                            pipeline. A photo that is not a PNG is first stored losslessly as
                            OUT/photos/NAME.png, so both sides decode the same pixels.

Usage (Debian's python3-torch 1.13 / python3-torchvision 0.14; no other package needed):

  /usr/bin/python3 tools/torch_reference.py resnet50 OUT            # full size, 224 px
  /usr/bin/python3 tools/torch_reference.py convnext_tiny OUT --names timm
  /usr/bin/python3 tools/torch_reference.py resnet50 OUT --photos a.jpg b.jpg
  /usr/bin/python3 tools/torch_reference.py resnet-small src/test/resources/torch
  /usr/bin/python3 tools/torch_reference.py convnext-small src/test/resources/torch

The small models (reduced widths and depths, 32 px) are the test fixtures under
src/test/resources/torch; TorchParityTest compares Graft's features with these. Run that test with
-Dgraft.torch.dir=OUT to compare the full-size ones (see docs/bases.md).

The safetensors format is written by hand (8-byte little-endian header length, JSON header padded
with spaces to a multiple of 8, raw little-endian data), so the `safetensors` package is not needed.
"""
import argparse
import json
import os
import re
import struct
import sys

import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.resnet import Bottleneck, ResNet

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# The publishers' evaluation filters, as Graft's catalog records them.
INTERPOLATION = {"resnet": T.InterpolationMode.BILINEAR, "convnext": T.InterpolationMode.BICUBIC}
CROP_FRACTION = 0.875

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
}


def save_safetensors(tensors, path, metadata=None):
    """Writes {name: tensor} as a .safetensors file, in the dict's order, to a temp name first."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {
            "dtype": DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class SmallResNet(ResNet):
    """torchvision's ResNet with torchvision's Bottleneck, at reduced widths and depths."""

    def __init__(self, stem, planes, depths):
        super().__init__(Bottleneck, [1, 1, 1, 1], num_classes=10)
        self.inplanes = stem
        self.conv1 = torch.nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(stem)
        self.layer1 = self._make_layer(Bottleneck, planes[0], depths[0])
        self.layer2 = self._make_layer(Bottleneck, planes[1], depths[1], stride=2)
        self.layer3 = self._make_layer(Bottleneck, planes[2], depths[2], stride=2)
        self.layer4 = self._make_layer(Bottleneck, planes[3], depths[3], stride=2)
        self.fc = torch.nn.Linear(planes[3] * 4, 10)


def build(name):
    """(model, input side, feature module replaced by Identity) for each reference."""
    if name == "resnet50":
        return torchvision.models.resnet50(), 224
    if name == "resnet-small":
        # stem 8, bottleneck widths 4, 8, 8, 16 (outputs 16, 32, 32, 64), depths 1, 2, 1, 1
        return SmallResNet(8, [4, 8, 8, 16], [1, 2, 1, 1]), 32
    if name == "convnext_tiny":
        return torchvision.models.convnext_tiny(stochastic_depth_prob=0.1), 224
    if name == "convnext-small":
        # widths 8, 16, 16, 32, depths 1, 2, 1, 1
        setting = [
            CNBlockConfig(8, 16, 1),
            CNBlockConfig(16, 16, 2),
            CNBlockConfig(16, 32, 1),
            CNBlockConfig(32, None, 1),
        ]
        return ConvNeXt(setting, stochastic_depth_prob=0.1, num_classes=10), 32
    raise SystemExit("unknown model " + name)


def randomise(model, gen):
    """Gives norms, BatchNorm statistics and layer scales random values (the defaults are 0/1)."""
    with torch.no_grad():
        for mod_name, p in model.named_parameters():
            if p.dim() == 1 or mod_name.endswith("layer_scale"):
                if mod_name.endswith("weight") or mod_name.endswith("layer_scale"):
                    p.copy_(0.5 + 0.5 * torch.rand(p.shape, generator=gen))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))


def evaluation_input(img, size, f, mode, pil):
    """A PIL image as the publisher evaluates it: Resize(int(size / f)), CenterCrop(size), ToTensor,
    Normalize(ImageNet). pil=True is torchvision on the PIL image (8-bit rounding, what users run);
    pil=False is torchvision's antialiased float resize with PIL's taps (bicubic clipped to [0, 255])."""
    if pil:
        t = T.Compose([T.Resize(int(size / f), interpolation=mode), T.CenterCrop(size), T.ToTensor(),
                       T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
        return t(img)
    x = TF.pil_to_tensor(img).float()
    x = TF.resize(x, int(size / f), interpolation=mode, antialias=True)
    if mode == T.InterpolationMode.BICUBIC:
        x = x.clamp(0, 255)
    x = TF.center_crop(x, size) / 255.0
    return TF.normalize(x, IMAGENET_MEAN, IMAGENET_STD)


def lossless(path, out):
    """The photo's path if it is a PNG, else a PNG copy under OUT/photos (decoded once, by PIL)."""
    if path.lower().endswith(".png"):
        return path
    os.makedirs(os.path.join(out, "photos"), exist_ok=True)
    dest = os.path.join(out, "photos", os.path.splitext(os.path.basename(path))[0] + ".png")
    Image.open(path).convert("RGB").save(dest)
    return dest


def features(model, name, x):
    """What the publisher's model hands its classifier: ResNet's pooled vector, ConvNeXt's
    pooled vector after the head's LayerNorm."""
    if name.startswith("resnet"):
        model.fc = torch.nn.Identity()
        return model(x)
    model.classifier[2] = torch.nn.Identity()
    return model(x)


def timm_names(name, sd):
    """torchvision's ConvNeXt names as timm's convnext_tiny.* files spell them (the reverse of
    timm's checkpoint_filter_fn); timm's resnet50.* keep torchvision's names."""
    if name.startswith("resnet"):
        return dict(sd)
    out = {}
    for k, v in sd.items():
        n = k
        n = re.sub(r"^features\.0\.0\.", "stem.0.", n)
        n = re.sub(r"^features\.0\.1\.", "stem.1.", n)
        m = re.match(r"^features\.(\d+)\.(\d+)\.(.*)$", n)
        if m:
            idx, sub, rest = int(m.group(1)), int(m.group(2)), m.group(3)
            if idx % 2 == 1:  # a stage's blocks
                stage = (idx - 1) // 2
                rest = (
                    rest.replace("block.0.", "conv_dw.")
                    .replace("block.2.", "norm.")
                    .replace("block.3.", "mlp.fc1.")
                    .replace("block.5.", "mlp.fc2.")
                )
                if rest == "layer_scale":
                    rest = "gamma"
                    v = v.reshape(-1)
                n = "stages.%d.blocks.%d.%s" % (stage, sub, rest)
            else:  # a downsampling between stages: it opens the next stage in timm
                n = "stages.%d.downsample.%d.%s" % (idx // 2, sub, rest)
        n = re.sub(r"^classifier\.0\.", "head.norm.", n)
        n = re.sub(r"^classifier\.2\.", "head.fc.", n)
        out[n] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["resnet50", "resnet-small", "convnext_tiny", "convnext-small"])
    ap.add_argument("out")
    ap.add_argument("--names", choices=["torchvision", "timm"], default="torchvision")
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--photos", nargs="*", default=[], help="real photos to run end to end (see above)")
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32",
                    help="store the weights in this dtype (features are computed from the stored values)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model, side = build(args.model)
    randomise(model, gen)
    model.eval()
    cast = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[args.dtype]
    if cast != torch.float32:  # round the weights so the features are those of the stored file
        with torch.no_grad():
            for t in list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]:
                t.copy_(t.to(cast).float())
    sd = model.state_dict()
    sd = {k: (v.to(cast) if v.is_floating_point() else v) for k, v in sd.items()}
    if args.names == "timm":
        sd = timm_names(args.model, sd)
    x = torch.randn((args.images, 3, side, side), generator=gen)
    torch.set_num_threads(2)
    with torch.no_grad():
        f = features(model, args.model, x)
    os.makedirs(args.out, exist_ok=True)
    io = {"input": x, "features": f}
    photos = [lossless(p, args.out) for p in args.photos]
    if photos:
        mode = INTERPOLATION["resnet" if args.model.startswith("resnet") else "convnext"]
        imgs = [Image.open(p).convert("RGB") for p in photos]
        for suffix, pil in (("", False), ("_pil", True)):
            px = torch.stack([evaluation_input(i, side, CROP_FRACTION, mode, pil) for i in imgs])
            with torch.no_grad():
                io["photo_input" + suffix] = px
                io["photo_features" + suffix] = features(model, args.model, px)
    stem = args.model + ("-timm" if args.names == "timm" else "") + ("-" + args.dtype.lower() if args.dtype != "F32" else "")
    meta = {
        "model": args.model,
        "names": args.names,
        "seed": args.seed,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }
    save_safetensors(sd, os.path.join(args.out, stem + ".safetensors"), meta)
    if photos:
        meta["photos"] = ",".join(photos)
    save_safetensors(io, os.path.join(args.out, stem + ".io.safetensors"), meta)
    print("%s: %d tensors, features %s -> %s" % (stem, len(sd), tuple(f.shape), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
