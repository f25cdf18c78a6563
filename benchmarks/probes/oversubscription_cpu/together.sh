#!/bin/bash
# N rounds of two `evaluate` processes at once, default OpenMP waiting then OMP_WAIT_POLICY=PASSIVE,
# interleaved. From the repository root: bash benchmarks/probes/oversubscription_cpu/together.sh BUNDLE N
# (output committed as benchmarks/results/oversubscription_cpu/together.log)
B=$1; D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz
run() { s=$(date +%s.%N); .venv/bin/sentiment-lab evaluate "$B" --data $D --limit 5000 --examples 0 \
          -o /tmp/oversub_$1.json > /dev/null 2>&1; echo "$1 $(echo "$(date +%s.%N) - $s" | bc)"; }
for i in $(seq 1 "$2"); do
  unset OMP_WAIT_POLICY; run "default_together_${i}A" & run "default_together_${i}B"; wait
  export OMP_WAIT_POLICY=PASSIVE; run "passive_together_${i}A" & run "passive_together_${i}B"; wait
done
