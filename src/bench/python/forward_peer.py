"""PyTorch peer of Graft's `Bench forward`: the same architecture, batch and input size, random
weights, inference mode, a fixed thread count; prints one RESULT line in the format Bench's
children use (images/s wall, images/s by CPU time, peak RSS, load).

Run with Debian's interpreter, which has python3-torch 1.13 and python3-torchvision 0.14:
    /usr/bin/python3 src/bench/python/forward_peer.py MODEL BATCH SIZE WARMUP ITERS THREADS

MODEL: resnet50, vgg16, inceptionv3 (whole torchvision networks, as Bench builds DL4J's with a
1000-class top) or mobilenetv2, efficientnetb0 (torchvision's `features`: the top-less network Graft's
catalog builds, ending at the last 1280-channel activation), resnet50-torchvision, convnext-tiny,
vit-b16 (torchvision's vit_b_16 less its classifier: the class token after the final LayerNorm) or
dinov2-vits14 / dinov2-vitb14 (tools/torch_reference_vit.py's DINOv2, Meta's code condensed:
x_norm_clstoken, position embeddings stored for 518 px and interpolated to SIZE as Meta does).
"""

import os
import resource
import sys
import time
from pathlib import Path

import torch
import torchvision


def build(name):
    m = torchvision.models
    if name == "resnet50":
        return m.resnet50()
    if name == "vgg16":
        return m.vgg16()
    if name == "inceptionv3":
        return m.inception_v3(aux_logits=False, init_weights=False)
    if name == "mobilenetv2":
        return m.mobilenet_v2().features
    if name == "efficientnetb0":
        return m.efficientnet_b0().features
    if name == "resnet50-torchvision":
        r = m.resnet50()
        r.fc = torch.nn.Identity()  # Graft's default features: the pooled 2048 vector
        return r
    if name == "convnext-tiny":
        c = m.convnext_tiny()
        c.classifier[2] = torch.nn.Identity()  # pooled, then the head's LayerNorm
        return c
    if name == "vit-b16":
        v = m.vit_b_16()
        v.heads = torch.nn.Identity()  # Graft's default features: the class token after the LN
        return v
    if name in ("dinov2-vits14", "dinov2-vitb14"):
        sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
        from torch_reference_vit import DinoVisionTransformer

        width, heads = (384, 6) if name == "dinov2-vits14" else (768, 12)
        d = DinoVisionTransformer(518, 14, width, 12, heads, 4.0, 1e-5)

        class ClassToken(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, x):
                return self.inner.forward_features(x)["x_norm_clstoken"]

        return ClassToken(d)
    raise SystemExit("unknown model " + name)


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    name, batch, size, warmup, iters, threads = sys.argv[1:7]
    batch, size, warmup, iters, threads = map(int, (batch, size, warmup, iters, threads))
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    net = build(name).eval()
    x = torch.rand(batch, 3, size, size)
    with torch.inference_mode():
        for _ in range(warmup):
            net(x).sum().item()
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(iters):
            net(x).sum().item()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
    images = batch * iters
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        "RESULT ips=%.3f cpuips=%.3f rss=%d load=%s torch=%s threads=%d"
        % (images / wall, images / cpu * os.cpu_count(), rss, load(), torch.__version__, threads)
    )


if __name__ == "__main__":
    main()
