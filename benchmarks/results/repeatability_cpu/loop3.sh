#!/bin/bash
# N traced one-epoch seed runs (no test pass needed: --limit keeps test small)
cd /work/main
N=$1; TAG=$2; shift 2
for i in $(seq 1 $N); do
  rm -rf /tmp/tr_run
  TRACE_OUT=/work/experiments/repeat/trace_${TAG}_$i.npy .venv/bin/python /work/experiments/repeat/${TRACER:-trace.py} train -p seed --data /tmp/shared/data/imdb/aclImdb_v1_labeled.tar.gz -o /tmp/tr_run --epochs 1 --no-progress "$@" > /tmp/tr_${TAG}_$i.log 2>&1
  echo "$TAG $i $(grep -o 'train loss [0-9.]*' /tmp/tr_${TAG}_$i.log)"
done
