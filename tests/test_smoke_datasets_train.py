"""Training on named datasets and a mixture from the real local copies in ../shared/data
(SENTIMENT_LAB_DATA; skipped where they are absent): `train --data NAME` and
`--data A+B` load through the registry, and a mixture's metrics.json holds each source's
validation and test figures beside the overall ones."""
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [pytest.mark.smoke,
              pytest.mark.skipif(not (SHARED / "sst2").is_dir() or not (SHARED / "amazon_blitzer").is_dir(),
                                 reason="../shared/data/sst2 and amazon_blitzer not present")]
SMALL = ["--limit", "300", "--epochs", "1", "--set", "text.vocab_size=500", "--set", "model.hidden_size=16",
         "--set", "model.embedding_dim=16"]


@pytest.fixture
def local_data(monkeypatch):
    monkeypatch.setenv("SENTIMENT_LAB_DATA", str(SHARED))


def test_train_on_a_named_dataset(tmp_path, local_data):
    from sentiment_lab.cli import app

    r = CliRunner().invoke(app, ["train", "--data", "amazon-blitzer", *SMALL, "-o", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["data"]["source"] == "amazon-blitzer" and cfg["data"]["path"] is None
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"]["n"] == 300 and "test_by_source" not in metrics  # one source: no breakdown


def test_train_on_a_mixture_reports_each_source(tmp_path, local_data):
    from sentiment_lab.cli import app

    r = CliRunner().invoke(app, ["train", "--data", "sst2+amazon-blitzer", *SMALL, "-o", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for split in ("val", "test"):
        by_source = metrics[f"{split}_by_source"]
        assert set(by_source) == {"sst2", "amazon-blitzer"}
        assert sum(m["n"] for m in by_source.values()) == metrics[split]["n"]


def test_an_unknown_name_lists_the_known_ones(tmp_path, local_data):
    from sentiment_lab.cli import app

    for spec in ("sst2+nosuchset", "imbd"):
        r = CliRunner().invoke(app, ["train", "--data", spec, *SMALL, "-o", str(tmp_path / "run")])
        assert r.exit_code == 1 and "Traceback" not in r.output
        assert "amazon-blitzer" in r.output and "sst2" in r.output, r.output  # the known names
        assert not (tmp_path / "run").exists()


def test_a_mixture_with_caps_and_weights_then_evaluate_per_source(tmp_path, local_data):
    """data.caps and data.weights from the command line on the real copies; the card states the
    training data; `evaluate --data A+B` gives each source's figures and the pooled ones."""
    from sentiment_lab.cli import app

    small = [a for a in SMALL if a not in ("--limit", "300")]
    r = CliRunner().invoke(app, ["train", "--data", "sst2+amazon-blitzer", *small, "--set", "data.caps=sst2=400,amazon-blitzer=200",
                                 "--set", "data.weights=sst2=1,amazon-blitzer=1", "-o", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = metrics["train_rows_by_source"]
    assert list(rows) == ["sst2", "amazon-blitzer"] and rows["sst2"] == rows["amazon-blitzer"]
    assert {s: m["n"] for s, m in metrics["test_by_source"].items()} == {"sst2": 1_821, "amazon-blitzer": 1_600}
    card = (tmp_path / "run" / "bundle" / "README.md").read_text()
    assert "| sst2 | " in card and " | 400 | 1 | 872 | 1,821 |" in card
    out = tmp_path / "eval.json"
    r = CliRunner().invoke(app, ["evaluate", "-m", str(tmp_path / "run" / "bundle"), "--data", "sst2+amazon-blitzer",
                                 "--limit", "200", "-n", "0", "-o", str(out)])
    assert r.exit_code == 0, r.output
    m = json.loads(out.read_text())
    assert {s: v["n"] for s, v in m["by_source"].items()} == {"sst2": 200, "amazon-blitzer": 200} and m["n"] == 400
