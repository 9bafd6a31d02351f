#!/usr/bin/python3
"""PyTorch peer of Graft's `Bench forward`: one measurement, printed as the Java children print it.

  /usr/bin/python3 tools/torch_forward.py MODEL BATCH SIZE WARMUP ITERS

MODEL: resnet50-torchvision | convnext-tiny (torchvision's own models, random weights, eval mode,
features only: the classifier replaced by Identity). Threads: OMP_NUM_THREADS, else the cores.
"""
import os
import resource
import sys
import time

import torch
import torchvision


def main():
    model, batch, size, warmup, iters = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    if model == "resnet50-torchvision":
        m = torchvision.models.resnet50()
        m.fc = torch.nn.Identity()
    elif model == "convnext-tiny":
        m = torchvision.models.convnext_tiny()
        m.classifier[2] = torch.nn.Identity()
    else:
        raise SystemExit("unknown model " + model)
    m.eval()
    x = torch.rand(batch, 3, size, size)
    with torch.no_grad():
        for _ in range(warmup):
            m(x)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            m(x).sum().item()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    load = open("/proc/loadavg").read().split()[0]
    print("RESULT ips=%.3f cpuips=%.3f rss=%d load=%s torch=%s threads=%d" % (
        iters * batch / wall, iters * batch / cpu * os.cpu_count(), rss, load, torch.__version__,
        torch.get_num_threads()))


if __name__ == "__main__":
    main()
