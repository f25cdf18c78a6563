"""Rebuild the shipped model's run directory from its bundle, for `plot` and `report`.

The bundle keeps the run's config, history and metrics; test_predictions.csv is written with
train's own function from the bundle's PyTorch network on the 25,000 IMDB test reviews (the
accuracy printed at the end equals the bundle's, 0.88616). Then:

    .venv/bin/python docs/examples/evaluation/rebuild_run.py ../shared/data/imdb/aclImdb_v1_labeled.tar.gz runs/ship_refit
    sentiment-lab plot runs/ship_refit          # then copy runs/ship_refit/plots/*.png named here
    sentiment-lab report runs/ship_refit --data ../shared/data/imdb/aclImdb_v1_labeled.tar.gz \
        -o docs/examples/report/report.html
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from sentiment_lab.text.batching import predict_logits
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.inference.shipped import shipped_bundle
from sentiment_lab.data import load_imdb
from sentiment_lab.analysis.metrics import compute_metrics
from sentiment_lab.text.token_cache import encode_with_lengths
from sentiment_lab.training.finish import write_predictions as _write_predictions


def main(data: str, run: Path) -> None:
    src = shipped_bundle("imdb")
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    shutil.copytree(src, run / "bundle")
    (run / "config.json").write_text(json.dumps(json.loads((src / "config.json").read_text())["config"], indent=2))
    for name in ("history.json", "metrics.json", "tokenizer.json"):
        shutil.copy(src / name, run / name)
    test = load_imdb(data, splits=("test",))
    clf = SentimentClassifier.from_pretrained(src, backend="torch")
    x, full = encode_with_lengths(clf.encoder, [r.text for r in test])
    y = np.array([r.label for r in test])
    with torch.inference_mode():
        p = 1 / (1 + np.exp(-predict_logits(clf.model, x, 64, torch.device("cpu"), None)))
    _write_predictions(run / "test_predictions.csv", test, y, p, x, full)
    shipped = json.loads((src / "metrics.json").read_text())["test"]["accuracy"]
    print(f"test accuracy {compute_metrics(y, p)['accuracy']:.5f} (the bundle's metrics.json: {shipped:.5f})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], Path(sys.argv[2]))
