#!/bin/bash
# Two `sentiment-lab evaluate` processes at once on 2 cores, against one alone, under three OpenMP
# waiting policies. From the repository root: bash benchmarks/probes/oversubscription_cpu/run.sh BUNDLE
# (output committed as benchmarks/results/oversubscription_cpu/run.log)
# (BUNDLE: e.g. the seed preset's, from the README's main job). Prints seconds per process.
B=$1; D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz
run() { s=$(date +%s.%N); .venv/bin/sentiment-lab evaluate "$B" --data $D --limit 5000 --examples 0 \
          -o /tmp/oversub_$1.json > /dev/null 2>&1; echo "$1 $(echo "$(date +%s.%N) - $s" | bc)"; }
for policy in default passive spin10000; do
  unset OMP_WAIT_POLICY GOMP_SPINCOUNT
  case $policy in passive) export OMP_WAIT_POLICY=PASSIVE;; spin10000) export GOMP_SPINCOUNT=10000;; esac
  run "${policy}_alone_1"; run "${policy}_alone_2"
  run "${policy}_together_A" & run "${policy}_together_B"; wait
done
