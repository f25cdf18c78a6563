#!/bin/bash
# Peak RSS of `sentiment-lab train -p seed` on full IMDB, cpu_shards auto (0) vs off (1),
# interleaved, 2 rounds each. Run from the repository root:
#   bash benchmarks/probes/cpu_shards_memory/run.sh OUT.txt   (the committed lines: benchmarks/results/cpu_shards_memory/peak_rss.txt)
# (appends one "shards=... round=... maxrss_kb=... wall_s=..." line per run to OUT.txt; each
# run's log goes to /tmp/rss_SHARDS_ROUND.log). The MALLOC_ARENA_MAX runs in peak_rss.txt were the same command
# with that variable set and the split on.
OUT=${1:?give the output file}
D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz
for r in 1 2; do for s in 0 1; do
  rm -rf /tmp/rss_run
  /usr/bin/time -a -o "$OUT" -f "shards=$s round=$r maxrss_kb=%M wall_s=%e" \
    .venv/bin/sentiment-lab train -p seed --data $D -o /tmp/rss_run --set train.cpu_shards=$s --no-progress \
    > "/tmp/rss_${s}_${r}.log" 2>&1
done; done
