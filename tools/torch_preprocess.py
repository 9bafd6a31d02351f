#!/usr/bin/python3
"""torchvision's evaluation preprocessing of real photos, the reference for Graft's own.

Writes into OUT:

  photo.png, photo-portrait.png   a real photo, downscaled to 90 x 60 (and the same turned upright
                                  by a lossless 90-degree transposition), stored losslessly so that
                                  Java and PIL decode identical pixels
  preprocess.safetensors          for each case NAME = "<photo>_<size>_<crop fraction>_<filter>":
                                    NAME.pil     torchvision on the PIL image, as users evaluate:
                                                 Resize(int(size / f), filter), CenterCrop(size):
                                                 the 8-bit levels ToTensor() reads (exact in F16;
                                                 ToTensor and Normalize then are (v / 255 - mean)
                                                 / std, checked here)
                                    NAME.tensor  the same resize on float pixels (torchvision's
                                                 antialiased tensor resize, PIL's taps without its
                                                 8-bit rounding; bicubic clipped to [0, 255])

Usage (Debian's python3-torch 1.13 / python3-torchvision 0.14, PIL):

  /usr/bin/python3 tools/torch_preprocess.py SOURCE.jpg src/test/resources/torch/preprocess

The committed fixture was made from the Rust Embedded Book's photo of the STM32F3 Discovery board
(assets/f3.jpg, CC BY-SA 4.0; see the README beside the fixture). PreprocessParityTest compares
Graft's ImageTransform with both references.
"""
import argparse
import os
import sys

import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import IMAGENET_MEAN as MEAN  # noqa: E402
from torch_reference import IMAGENET_STD as STD  # noqa: E402
from torch_reference import evaluation_input, save_safetensors  # noqa: E402

FILTERS = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}
# (photo, size, crop fraction, filter): both orientations, both filters, half-pixel crop offsets
# (Python rounds them to even), downscaling and upscaling, timm's 0.9 as well as 0.875.
CASES = [
    ("photo", 48, 0.875, "bilinear"),
    ("photo", 48, 0.875, "bicubic"),
    ("photo", 56, 0.875, "bilinear"),
    ("photo-portrait", 40, 0.9, "bicubic"),
]


def pil_reference(img, size, f, mode):
    """The 8-bit levels after Resize and CenterCrop, checked against the whole pipeline."""
    cropped = T.Compose([T.Resize(int(size / f), interpolation=mode), T.CenterCrop(size)])(img)
    levels = F.pil_to_tensor(cropped).float()
    full = evaluation_input(img, size, f, mode, pil=True)
    assert torch.allclose(F.normalize(levels / 255.0, MEAN, STD), full, atol=1e-6)
    return levels.to(torch.float16)


def tensor_reference(img, size, f, mode):
    return evaluation_input(img, size, f, mode, pil=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a photo (any format PIL reads)")
    ap.add_argument("out")
    ap.add_argument("--width", type=int, default=90)
    ap.add_argument("--height", type=int, default=60)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    src = Image.open(args.source).convert("RGB")
    photo = src.resize((args.width, args.height), Image.LANCZOS)
    photos = {"photo": photo, "photo-portrait": photo.transpose(Image.Transpose.ROTATE_90)}
    for name, img in photos.items():
        img.save(os.path.join(args.out, name + ".png"), optimize=True)
    # Reread what was written: the references start from the committed pixels.
    photos = {n: Image.open(os.path.join(args.out, n + ".png")).convert("RGB") for n in photos}
    tensors = {}
    for name, size, f, filt in CASES:
        case = "%s_%d_%s_%s" % (name, size, f, filt)
        tensors[case + ".pil"] = pil_reference(photos[name], size, f, FILTERS[filt])
        tensors[case + ".tensor"] = tensor_reference(photos[name], size, f, FILTERS[filt])
    meta = {"torch": torch.__version__, "torchvision": torchvision.__version__,
            "PIL": Image.__version__, "source": os.path.basename(args.source)}
    save_safetensors(tensors, os.path.join(args.out, "preprocess.safetensors"), meta)
    print("%d cases -> %s" % (len(CASES), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
