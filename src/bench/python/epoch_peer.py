#!/usr/bin/env python3
"""PyTorch peer of `src/bench/sh/augmented_epoch.sh`: one augmented fine-tuning epoch of ResNet50
over a folder of JPEGs, decode included, the way a plain PyTorch loop does it.

torchvision's ImageFolder + RandomResizedCrop(224, scale 0.6-1) + horizontal flip + rotation up to
10 degrees + brightness/contrast jitter 0.2 (Graft's Augmentation.standard()), a DataLoader with
one worker process decoding beside training, ResNet50 (random weights) with everything but the
last bottleneck (layer4[2]) and a new 10-class head frozen, BatchNorm in inference mode, Adam.
No activation cache is possible: every image passes the whole network every epoch.

usage: epoch_peer.py DIR [--epochs E] [--batch B] [--threads T] [--workers W]
prints one line per epoch: "epoch N SECONDS IMAGES_PER_SECOND" and a last line
"peer SECONDS_OF_LAST_EPOCH"
"""
import argparse
import time

import torch
import torchvision
from torchvision import transforms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    tf = transforms.Compose([
        transforms.RandomResizedCrop(224, scale=(0.6, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.RandomRotation(10),
        transforms.ColorJitter(brightness=0.2, contrast=0.2),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    ds = torchvision.datasets.ImageFolder(a.data, transform=tf)
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True,
                                     num_workers=a.workers, drop_last=False)
    m = torchvision.models.resnet50()
    m.fc = torch.nn.Linear(2048, len(ds.classes))
    for p in m.parameters():
        p.requires_grad = False
    trainable = list(m.layer4[2].parameters()) + list(m.fc.parameters())
    for p in trainable:
        p.requires_grad = True
    m.eval()  # BatchNorm in inference mode, as Graft fine-tunes
    opt = torch.optim.Adam(trainable, lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    last = None
    for e in range(a.epochs):
        t0 = time.perf_counter()
        n = 0
        for x, y in dl:
            opt.zero_grad()
            loss = loss_fn(m(x), y)
            loss.backward()
            opt.step()
            n += x.shape[0]
        last = time.perf_counter() - t0
        print("epoch %d %.2f %.2f" % (e + 1, last, n / last), flush=True)
    print("peer %.2f" % last)


if __name__ == "__main__":
    main()
