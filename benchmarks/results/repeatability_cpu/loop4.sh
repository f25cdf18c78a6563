#!/bin/bash
cd /work/main; N=$1; TAG=$2
for i in $(seq 1 $N); do
  TRACE_OUT=/work/experiments/repeat/t4_${TAG}_$i.txt .venv/bin/python /work/experiments/repeat/trace4.py train -p seed --data /tmp/shared/data/imdb/aclImdb_v1_labeled.tar.gz -o /tmp/t4_run_$TAG --epochs 1 --no-progress > /tmp/t4_${TAG}_$i.log 2>&1
  rm -rf /tmp/t4_run_$TAG
done
