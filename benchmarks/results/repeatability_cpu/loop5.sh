#!/bin/bash
cd /work/main; N=$1; TAG=$2
for i in $(seq 1 $N); do
  TRACE_OUT=/work/experiments/repeat/t5_${TAG}_$i.txt .venv/bin/python /work/experiments/repeat/trace5.py train -p seed --data /tmp/shared/data/imdb/aclImdb_v1_labeled.tar.gz -o /tmp/t5_run_$TAG --epochs 1 --no-progress > /tmp/t5_${TAG}_$i.log 2>&1
  echo "$TAG $i $(grep -o "train loss [0-9.]*" /tmp/t5_${TAG}_$i.log)"; rm -rf /tmp/t5_run_$TAG
done
