"""Per-dataset comparison: metrics never pooled across datasets, Amazon per domain, the
`compare --datasets` table, and the per-dataset benchmark script on a tiny limit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.cli import app
from sentiment_lab.compare.by_dataset import domain_of, metrics_of, score_by_dataset, table
from sentiment_lab.data.records import Record

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SENTIMENT_LAB_SHARED_DATA", ROOT.parent / "shared" / "data"))


class Fixed:
    """A classifier answering P(positive) from a lookup: the scores are known in advance."""

    def __init__(self, p: dict[str, float]) -> None:
        self.p = p

    def predict_proba(self, texts):
        q = np.array([self.p[t] for t in texts])
        return np.stack([1 - q, q], axis=1)


def records(source, rows):
    return [Record(text=t, label=y, split="test", id=f"{d}/{i}" if d else str(i), source=source)
            for i, (t, y, d) in enumerate(rows)]


def test_each_dataset_scored_alone_and_amazon_per_domain():
    tests = {"sst2": records("sst2", [("good", 1, None), ("bad", 0, None)]),
             "amazon-blitzer": records("amazon-blitzer", [("fine pan", 1, "kitchen"), ("dull book", 0, "books"),
                                                          ("great book", 1, "books"), ("broken pan", 0, "kitchen")])}
    clf = Fixed({"good": 0.9, "bad": 0.2, "fine pan": 0.8, "dull book": 0.7, "great book": 0.6, "broken pan": 0.1})
    rows = score_by_dataset({"m": clf}, tests)
    assert [(r["dataset"], r["n"], r["accuracy"]) for r in rows] == [("sst2", 2, 1.0), ("amazon-blitzer", 4, 0.75)]
    assert "per_domain" not in rows[0] and rows[1]["per_domain"] == {"books": 0.5, "kitchen": 1.0}
    assert table(rows)[2][5] == "books 50.0%, kitchen 100.0%"
    assert domain_of(tests["sst2"][0]) is None and domain_of(tests["amazon-blitzer"][1]) == "books"
    assert metrics_of(tests["sst2"], np.array([0.4, 0.6]))["accuracy"] == 0.0


def _have(*names):
    return all((SHARED / n).exists() for n in names)


@pytest.mark.skipif(not _have("sst2", "amazon_blitzer"), reason="../shared/data is not here")
def test_cli_compare_reports_per_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(SHARED))
    out = tmp_path / "cmp"
    r = CliRunner().invoke(app, ["compare", "--datasets", "sst2+amazon-blitzer", "--methods", "vader,tfidf",
                                 "--n", "60", "--train-limit", "300", "--no-challenge", "-o", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "compare.json").read_text())
    by = {(m["method"], m["sample"]): m for m in res["metrics"]}
    assert {("tfidf", "sst2"), ("tfidf", "amazon-blitzer"), ("vader", "sst2")} <= set(by)
    assert by[("tfidf", "sst2")]["n"] == 60 and by[("tfidf", "amazon-blitzer")]["accuracy"] is not None
    assert "training texts of sst2+amazon-blitzer" in res["notes"]["tfidf"]
    r = CliRunner().invoke(app, ["compare", "--datasets", "sst2+nope", "--methods", "vader", "-o", str(out)])
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert r.exit_code == 1 and len(errors) == 1 and "unknown dataset 'nope'" in errors[0], r.output


@pytest.mark.slow
@pytest.mark.skipif(not _have("imdb", "sst2", "amazon_blitzer"), reason="../shared/data is not here")
def test_bench_script_runs_on_a_tiny_limit(tmp_path):
    pytest.importorskip("fasttext")
    out = tmp_path / "r" / "results.json"
    env = {**os.environ, "SENTIMENT_LAB_DATA": str(SHARED), "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_baselines_by_dataset.py"), "--limit", "120",
                    "--methods", "vader", "fasttext", "--no-default-bundle", "--repeats", "1", "--throughput-n", "20",
                    "--out", str(out)], check=True, env=env, cwd=ROOT, timeout=1200)
    res = json.loads(out.read_text())
    assert {(r["model"], r["dataset"]) for r in res["rows"]} >= {("fasttext@imdb", "imdb"), ("fasttext@mixture", "sst2"),
                                                                ("vader@none", "amazon-blitzer")}
    assert res["machine"]["cpu"] and set(res["throughput"]) == {"imdb", "sst2", "amazon-blitzer"}
    assert "| amazon-blitzer | fasttext | mixture |" in (out.parent / "README.md").read_text()
