#!/usr/bin/env bash
# The GPU checks, prepared as one call for a session that is lent the device machine (an H200
# with torch, tokenizers, scikit-learn, typer, rich, safetensors... preinstalled and no network).
# Nothing is installed there: the package runs from src/ (PYTHONPATH), which needs only what the
# machine has (checked in a venv holding just those packages: `sentiment-lab train` works).
#
#   here:    bash benchmarks/gpu_check.sh prepare     # copies the IMDB archive into .device/ (git-ignored)
#   device:  run(command="bash benchmarks/gpu_check.sh", carry=[".device"], timeout_s=560)
#
# What it does, in order, logging to $OUT/gpu_check.log:
#   1. the machine: nvidia-smi, torch / CUDA / cuDNN versions;
#   2. tests/test_cuda.py (CUDA outputs == CPU outputs, bf16 autocast training steps, training on
#      the GPU and its bundle on the CPU); a failure there is reported and the timing still runs;
#   3. issue 3's target "the best preset trains in <= 3 minutes on the GPU machine": `train
#      --preset best` refitted on all of IMDB train (data.val_fraction=0, as the CPU refits),
#      seeds 42, 43, 44 while the time allows (no new seed after 400 s), then the seed preset once;
#   4. $OUT/gpu_check.json: per run the training loop's seconds, the whole command's seconds and
#      the IMDB test accuracy, with the machine's facts. Compare with the 2-core CPU figures of the
#      same presets (README): best 9.3 min, 90.31% +- 0.17; seed 36 s, 87.79% +- 0.09.
set -uo pipefail
cd "$(dirname "$0")/.."
ARCHIVE_NAME=aclImdb_v1_labeled.tar.gz
if [ "${1:-}" = "prepare" ]; then
    src=${2:-../shared/data/imdb/$ARCHIVE_NAME}
    mkdir -p .device && cp "$src" .device/$ARCHIVE_NAME && ls -l .device/
    exit 0
fi
OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
RUNS=$(mktemp -d)
DATA=.device/$ARCHIVE_NAME
[ -f "$DATA" ] || { echo "error: $DATA missing: run 'bash benchmarks/gpu_check.sh prepare' here and carry .device" >&2; exit 2; }
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
DEVICE=${GPU_CHECK_DEVICE:-cuda}   # cpu + GPU_CHECK_ARGS="--limit 400 --epochs 1": a dry run of this script anywhere
EXTRA=${GPU_CHECK_ARGS:-}
LOG=$OUT/gpu_check.log
exec > >(tee "$LOG") 2>&1
START=$(date +%s)

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
$PY -c "import torch; c = torch.cuda.is_available(); print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version(), 'GPU', c and torch.cuda.get_device_name(0), 'bf16', c and torch.cuda.is_bf16_supported())"

echo "== tests/test_cuda.py"
timeout 240 $PY -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py
TESTS_RC=$?
echo "tests exit code: $TESTS_RC"

echo "== training"
train() {  # name preset seed
    local t0=$EPOCHREALTIME
    timeout 300 $PY -c "from sentiment_lab.cli import main; main()" train --preset "$2" --data "$DATA" \
        --set data.val_fraction=0 --seed "$3" --device "$DEVICE" $EXTRA -o "$RUNS/$1"
    local rc=$?
    echo "{\"name\": \"$1\", \"preset\": \"$2\", \"seed\": $3, \"rc\": $rc, \"t0\": $t0, \"t1\": $EPOCHREALTIME}" >> "$RUNS/runs.jsonl"
}
for seed in 42 43 44; do
    [ $(( $(date +%s) - START )) -lt 400 ] || { echo "no time left for seed $seed"; break; }
    train best_$seed best $seed
done
[ $(( $(date +%s) - START )) -lt 470 ] && train seed_42 seed 42

$PY - "$RUNS" "$OUT/gpu_check.json" "$TESTS_RC" "$EXTRA" <<'EOF'
import json, os, platform, statistics, sys
from pathlib import Path
import torch
runs_dir, out, tests_rc = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
runs = [json.loads(line) for line in (runs_dir / "runs.jsonl").read_text().splitlines()] if (runs_dir / "runs.jsonl").exists() else []
for r in runs:
    r["wall_s"] = r.pop("t1") - r.pop("t0")  # the whole command: start-up, data, tokenizer, training, test
    m = runs_dir / r["name"] / "metrics.json"
    if m.exists():
        metrics = json.loads(m.read_text())
        r["train_s"] = metrics["timings"]["train_s"]
        r["test_accuracy"] = metrics["test"]["accuracy"]
best = [r for r in runs if r["preset"] == "best" and "train_s" in r]
summary = {"best_train_min_median": statistics.median(r["train_s"] for r in best) / 60 if best else None,
           "best_test_accuracy_mean": statistics.mean(r["test_accuracy"] for r in best) if best else None}
info = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(), "cpu_count": os.cpu_count()}
out.write_text(json.dumps({"machine": info, "tests_exit_code": tests_rc, "runs": runs, "summary": summary,
                           "extra_args": sys.argv[4]}, indent=2))
print(json.dumps(summary))
EOF
echo "== done in $(( $(date +%s) - START )) s"
