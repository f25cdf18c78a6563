#!/bin/bash
# One-epoch seed runs (whole command: load, tokenize, 1 epoch, test) with oneDNN's primitive cache at
# its default (1024) and capped; peak RSS and wall time from /usr/bin/time, epoch and validation
# seconds and the loss from history.json. From the repository root:
#   bash benchmarks/probes/cpu_shards_memory/cache_cap.sh ROUNDS >> benchmarks/results/cpu_shards_memory/cache_cap.txt
D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz
m() { rm -rf /tmp/mem_run
  env $2 /usr/bin/time -f "%M %e" .venv/bin/sentiment-lab train -p seed --data $D -o /tmp/mem_run --epochs 1 \
    --no-progress $3 2>/tmp/mem_time >/dev/null
  ts=$(.venv/bin/python -c "import json; h=json.load(open('/tmp/mem_run/history.json'))[0]; print('%.1f %.2f %r' % (h['train_s'], h['val_s'], h['train_loss']))")
  tail -1 /tmp/mem_time | awk -v t="$1" -v ts="$ts" '{printf "%s peak %.0f MiB, total %s s, train_s val_s loss: %s\n", t, $1/1024, $2, ts}'; }
for r in $(seq 1 "$1"); do
  m split X=1; m cap16 ONEDNN_PRIMITIVE_CACHE_CAPACITY=16; m cap64 ONEDNN_PRIMITIVE_CACHE_CAPACITY=64
done
