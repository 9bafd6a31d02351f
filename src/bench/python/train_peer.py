"""PyTorch peer of `Bench train`: the same training work, measured the same way.

Run with Debian's PyTorch (apt-get install -y python3-torch python3-torchvision):
    /usr/bin/python3 src/bench/python/train_peer.py ROW [--batch 16] [--iters 5] [--threads 2]

ROW is one of the rows of `Bench train` (see docs/performance.md):
  resnet50-bottleneck  layer4[2] (res5c) + a 4-class head, from cached [B, 2048, 7, 7] activations
  resnet50-stage       layer4 (res5a..res5c) + head, from cached [B, 1024, 14, 14] activations
  resnet50-all         the whole ResNet50 trainable at 224 px, BatchNorm in inference mode
  mobilenetv2-block    MobileNetV2's last inverted residual block + head, from cached activations
  efficientnetb0-block EfficientNetB0's last MBConv block + head, from cached activations
BatchNorm runs in inference mode everywhere (model.eval() for BN, as Graft's fine-tuning does),
the optimizer is Adam (lr 1e-4), random weights (speed does not depend on them), float32.
Prints one line: `peer ROW images_per_s_wall images_per_s_cpu gflop`.
"""
import argparse
import time

import torch
import torch.nn as nn
import torchvision


def head(channels, classes=4):
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))


def row(name, batch):
    """(trainable module, input tensor) for a row."""
    if name.startswith("resnet50"):
        r = torchvision.models.resnet50()
        if name == "resnet50-bottleneck":
            return nn.Sequential(r.layer4[2], head(2048)), torch.rand(batch, 2048, 7, 7)
        if name == "resnet50-stage":
            return nn.Sequential(r.layer4, head(2048)), torch.rand(batch, 1024, 14, 14)
        if name == "resnet50-all":
            r.fc = nn.Linear(2048, 4)
            return r, torch.rand(batch, 3, 224, 224)
    if name == "mobilenetv2-block":
        m = torchvision.models.mobilenet_v2()
        # features[17] is the last inverted residual (320 out), features[18] the 1x1 conv to 1280
        return nn.Sequential(m.features[17], m.features[18], head(1280)), torch.rand(batch, 160, 7, 7)
    if name == "efficientnetb0-block":
        m = torchvision.models.efficientnet_b0()
        # features[7] is the last MBConv stage (block7a, 320 out), features[8] the 1x1 conv to 1280
        return nn.Sequential(m.features[7], m.features[8], head(1280)), torch.rand(batch, 192, 7, 7)
    raise SystemExit("unknown row " + name)


def gflop(model, x):
    """Forward GFLOP of one batch from the conv and linear layers (multiply-add = 2)."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total[0] += 2 * out.numel() * k
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()
    return total[0] / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("row")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    model, x = row(a.row, a.batch)
    fwd = gflop(model, x)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # inference-mode BatchNorm, as Graft fine-tunes
    y = torch.arange(a.batch) % 4
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.iters):
        step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = a.batch * a.iters
    # forward + backward (data and weights) is about 3x the forward FLOPs
    print(f"peer {a.row} {n / wall:.2f} {n / cpu * a.threads:.2f} {3 * fwd:.2f}", flush=True)


if __name__ == "__main__":
    main()
