#!/bin/bash
# peak RSS of `sentiment-lab train -p seed` on full IMDB, cpu_shards auto vs 1, interleaved, 2 rounds each
D=/work/shared/data/imdb/aclImdb_v1_labeled.tar.gz
for r in 1 2; do for s in 0 1; do
  rm -rf /tmp/rss_run
  /usr/bin/time -f "shards=$s round=$r maxrss_kb=%M wall_s=%e" /work/main/.venv/bin/sentiment-lab train -p seed --data $D -o /tmp/rss_run --set train.cpu_shards=$s --no-progress > /tmp/rss_$s_$r.log 2>> /work/experiments/rss.txt
done; done
