"""benchmarks/bench_french.py on a few rows of the real French data (skipped where
../shared/data/french is absent): it runs end to end and writes numbers only."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "french" / "cls_books_fr" / "train.csv.gz").is_file(),
                    reason="needs ../shared/data/french")
def test_bench_french_tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(SHARED))
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_french

    out = tmp_path / "out"
    bench_french.main(["--out", str(out), "--runs", str(tmp_path / "runs"), "--datasets", "cls-books-fr",
                       "--seeds", "42", "--limit", "60", "--set", "train.epochs=1", "train.max_steps=1",
                       "text.vocab_size=200", "model.hidden_size=8", "model.embedding_dim=8"])
    results = json.loads((out / "results.json").read_text())
    cls = results["datasets"]["cls-books-fr"]
    assert cls["rnn"]["n_seeds"] == cls["tfidf"]["n_seeds"] == 1
    assert 0 <= cls["rnn"]["test_accuracy_mean"] <= 1 and cls["tfidf"]["runs"][0]["sizes"]["test"] == 60
    assert results["language_guess"]["cls-books-fr"]["fr"] > 1900  # of its 2,000 French test reviews
    import pandas as pd

    dumped = (out / "results.json").read_text()
    assert not any(t[:40] in dumped for t in pd.read_csv(SHARED / "french" / "cls_books_fr" / "test.csv.gz")["text"])
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]  # numbers only; runs and bundles elsewhere
