#!/bin/bash
# N plain one-epoch seed-preset runs (the README's main job with --epochs 1), from the repository
# root; prints TAG, the run number and the epoch-1 training loss to every digit.
#   bash benchmarks/probes/repeatability_cpu/plain_loop.sh N TAG
N=$1; TAG=$2
for i in $(seq 1 "$N"); do
  rm -rf "/tmp/plain_run_$TAG"
  .venv/bin/sentiment-lab train -p seed --data ../shared/data/imdb/aclImdb_v1_labeled.tar.gz \
    -o "/tmp/plain_run_$TAG" --epochs 1 --no-progress > "/tmp/plain_run_$TAG.out" 2>&1
  echo "$TAG $i $(.venv/bin/python -c "import json; print(repr(json.load(open('/tmp/plain_run_$TAG/history.json'))[0]['train_loss']))")"
done
