#!/bin/bash
# N traced one-epoch seed-preset runs from the repository root; prints each run's epoch-1 train loss.
#   TRACE_MODE=sums|hashes TRACE_STOP=0|2 bash benchmarks/probes/repeatability_cpu/loop.sh N TAG [extra train options]
# Records go to $OUT_DIR (default /tmp/trace): TAG_i.npy (+ .npy.log) or TAG_i.txt.
OUT_DIR=${OUT_DIR:-/tmp/trace}; mkdir -p "$OUT_DIR"
HERE=$(cd "$(dirname "$0")" && pwd)
N=$1; TAG=$2; shift 2
EXT=$([ "${TRACE_MODE:-sums}" = hashes ] && echo txt || echo npy)
for i in $(seq 1 "$N"); do
  rm -rf "/tmp/trace_run_$TAG"
  TRACE_OUT="$OUT_DIR/${TAG}_$i.$EXT" .venv/bin/python "$HERE/trace.py" train -p seed \
    --data ../shared/data/imdb/aclImdb_v1_labeled.tar.gz -o "/tmp/trace_run_$TAG" --epochs 1 --no-progress "$@" \
    > "$OUT_DIR/${TAG}_$i.out" 2>&1
  echo "$TAG $i $(grep -o 'train loss [0-9.]*' "$OUT_DIR/${TAG}_$i.out")"
done
