#!/usr/bin/env bash
# One augmented fine-tuning epoch of ResNet50 over JPEG files, decode included, Graft's CLI against
# a plain PyTorch loop (src/bench/python/epoch_peer.py) on the same images (docs/performance.md,
# "Training against PyTorch"). With augmentation nothing can be cached: every image is decoded,
# augmented and passed through the whole network every epoch.
#
#   src/bench/sh/augmented_epoch.sh [JAR]
#
# Graft: `graft train --strategy finetune --unfreeze 10 --augment` (res5c and the head train;
# BatchNorm in inference mode), timed at E and E+1 epochs: the difference is one fine-tuning
# epoch, start-up and the head-only warm-up epochs excluded. Environment: PER_CLASS (26, so 260
# images in 10 classes), SIDE (256 px JPEGs), BATCH (16), WORK (a scratch directory).
set -euo pipefail
jar=${1:-target/graft-cli.jar}
per_class=${PER_CLASS:-26}; side=${SIDE:-256}; batch=${BATCH:-16}
work=${WORK:-$(mktemp -d)}
. "$(dirname "$0")/jpeg-folder.sh"
jpeg_folder "$per_class" "$side"
echo "# augmented epoch: resnet50 224 px, $n JPEGs (${side} px), batch $batch; load $(cut -d' ' -f1 /proc/loadavg)"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); flags: $(grep -m1 -o 'avx512[a-z_0-9]*\|avx2\|fma' /proc/cpuinfo | sort -u | xargs)"
graft_run() {
  local t0 t1
  t0=$(date +%s.%N)
  java -jar "$jar" train --data "$images" --val-split 0 --base resnet50 --weights none \
    --strategy finetune --unfreeze 10 --augment --batch "$batch" --epochs "$1" \
    --out "$work/m$1.graft" >/dev/null 2>"$work/train$1.err" || { cat "$work/train$1.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'
}
g3=$(graft_run 3); g4=$(graft_run 4)
graft=$(awk -v a="$g3" -v b="$g4" 'BEGIN{printf "%.2f", b-a}')
echo "graft: 3 epochs ${g3} s, 4 epochs ${g4} s: one fine-tuning epoch ${graft} s ($(awk -v n="$n" -v s="$graft" 'BEGIN{printf "%.1f", n/s}') images/s)"
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  /usr/bin/python3 src/bench/python/epoch_peer.py "$images" --epochs 2 --batch "$batch" | tee "$work/peer.log"
  peer=$(awk '/^peer/{print $2}' "$work/peer.log")
  echo "pytorch: one fine-tuning epoch ${peer} s; Graft / PyTorch speed $(awk -v g="$graft" -v p="$peer" 'BEGIN{printf "%.2f", p/g}')x"
else
  echo "pytorch: not installed (apt-get install -y python3-torch python3-torchvision)"
fi
