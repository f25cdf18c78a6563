"""Package a trained candidate as the shipped `general` bundle.

The candidates were trained by train_mix.py, which passes the mixture weights to load_mixture
directly (before data.weights existed as a setting), so their config.json leaves data.weights
unset. This writes the same weights, tokenizer and metrics into src/sentiment_lab/shipped/general
with the config the `general` preset resolves to (data.weights filled in, seed as trained) and the
invariance summary measured here added to metrics.json, so the card states all of it.
    python benchmarks/probes/general_recipe/ship_general.py /tmp/gen/F42
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sentiment_lab import SentimentClassifier
from sentiment_lab.analysis.challenge.invariance import run_invariance, summary
from sentiment_lab.config import load_config
from sentiment_lab.inference.bundle import save_pretrained
from sentiment_lab.inference.shipped import shipped_dir

run = Path(sys.argv[1])
clf = SentimentClassifier.from_pretrained(run / "bundle", backend="torch")
trained = clf.config
cfg = load_config("general", [f"train.seed={trained.train.seed}"])
diff = {s: {k: (v, cfg.to_dict()[s][k]) for k, v in trained.to_dict()[s].items() if cfg.to_dict()[s].get(k) != v}
        for s in ("data", "text", "model", "train")}
print("trained vs preset (only data.weights may differ):", diff)
metrics = json.loads((run / "metrics.json").read_text())
metrics["invariance"] = summary(run_invariance(clf))
history = json.loads((run / "history.json").read_text())
save_pretrained(shipped_dir("general"), clf.model, clf.encoder, cfg, metrics, history)
print("written", shipped_dir("general"))
