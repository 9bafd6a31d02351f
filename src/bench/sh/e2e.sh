#!/usr/bin/env bash
# End-to-end figures users feel (docs/performance.md, "End to end"): graft predict / featurize
# (first run and cached rerun) / evaluate on a folder of JPEGs, decode included, wall time and
# peak RSS (GNU time), median of RUNS runs, for one or more CLI jars side by side.
#
#   src/bench/sh/e2e.sh [BASE] [JAR...]
#
# BASE: a catalog id (default resnet50), random weights (--weights none: the speed does not depend
# on the values). JARs default to target/graft-cli.jar. Environment: RUNS (3), PER_CLASS (20, so
# 200 images), SIDE (256 px JPEGs), JAVA_OPTS (passed to every java), WORK (a scratch directory).
set -euo pipefail
base=${1:-resnet50}; shift || true
jars=("$@"); [ ${#jars[@]} -gt 0 ] || jars=(target/graft-cli.jar)
runs=${RUNS:-3}; per_class=${PER_CLASS:-20}; side=${SIDE:-256}
work=${WORK:-$(mktemp -d)}
. "$(dirname "$0")/jpeg-folder.sh"
jpeg_folder "$per_class" "$side"
echo "# e2e: base=$base images=$n (${side}px JPEG) runs=$runs load=$(cut -d' ' -f1 /proc/loadavg)"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no); ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-unset}"

# one timed command: prints "seconds peak_rss_mb"
timed() {
  local log=$work/time.log
  /usr/bin/time -f '%e %M' -o "$log" "$@" >"$work/out.log" 2>"$work/err.log" || { cat "$work/err.log" >&2; return 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$log"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| jar | command | median s | images/s | peak RSS MB |"
echo "|---|---|---|---|---|"
for jar in "${jars[@]}"; do
  tag=$(basename "$(dirname "$(readlink -f "$jar")")")/$(basename "$jar")
  j=(java ${JAVA_OPTS:-} -jar "$jar")
  model=$work/model-$RANDOM.graft
  cache=(); "${j[@]}" featurize --help 2>&1 | grep -q -- '--cache' && cache=(--cache "$work/cache")
  # a model to predict with: the features strategy, one epoch (its speed is not measured here)
  "${j[@]}" train --data "$images" --base "$base" --weights none --strategy features \
    --epochs 1 --val-split 0.2 --out "$model" >/dev/null 2>"$work/train.err" || { cat "$work/train.err" >&2; exit 1; }
  for cmd in predict evaluate featurize featurize-cached; do
    secs=(); rss=()
    for r in $(seq "$runs"); do
      case $cmd in
        predict) res=$(timed "${j[@]}" predict --model "$model" --json $(find "$images" -name '*.jpg' | sort));;
        evaluate) res=$(timed "${j[@]}" evaluate --model "$model" --data "$images" --json);;
        featurize) rm -rf "$work/feat" "$work/cache"
          res=$(timed "${j[@]}" featurize --base "$base" --weights none --data "$images" --out "$work/feat" "${cache[@]}");;
        featurize-cached) [ ${#cache[@]} -gt 0 ] || continue 2  # this jar has no feature cache
          [ -d "$work/cache" ] || "${j[@]}" featurize --base "$base" --weights none --data "$images" --out "$work/feat" "${cache[@]}" >/dev/null 2>&1
          rm -rf "$work/feat"
          res=$(timed "${j[@]}" featurize --base "$base" --weights none --data "$images" --out "$work/feat" "${cache[@]}");;
      esac
      secs+=("${res% *}"); rss+=("${res#* }")
    done
    s=$(printf '%s\n' "${secs[@]}" | median); m=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
    echo "| $tag | $cmd | $s | $(awk -v n="$n" -v s="$s" 'BEGIN{printf "%.1f", n/s}') | $m |"
  done
done
