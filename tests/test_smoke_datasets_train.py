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
