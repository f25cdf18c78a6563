"""The HTML report: self-contained, every section built (none degraded to a note), error
examples matched to the right reviews, and it renders in a real browser."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sentiment_lab.analysis.report import report

CHROMIUM = Path("/usr/bin/chromium")
IMG = "data:image/png;base64,"


def _sections(html: str) -> dict[str, str]:
    """Section title -> its HTML."""
    parts = re.split(r"<section id=", html)[1:]
    return {re.search(r"<h2>(.*?)</h2>", p).group(1): p for p in parts}


@pytest.fixture(scope="module")
def report_file(tiny_run, corpus_splits, tmp_path_factory) -> Path:
    return report(tiny_run.run_dir, tmp_path_factory.mktemp("report") / "report.html", corpus_splits.test)


def test_report_is_self_contained(report_file):
    html = report_file.read_text(encoding="utf-8")
    assert "not available" not in html  # the tiny run has everything every section needs
    sections = _sections(html)
    images = {title.split(":")[0]: body.count(IMG) for title, body in sections.items()}
    # data: length histogram + labels; evaluation: confusion, ROC, PR, reliability, by length
    # (the synthetic corpus has no star ratings); embeddings: the PCA map; errors: error rates
    assert images == {"Data": 2, "Learning curves": 1, "Metrics": 0, "Evaluation": 5, "Word embeddings": 1,
                      "Errors": 1, "Challenge suite": 0, "Model card": 0, "Configuration": 0}
    assert html.count(IMG) == 10
    assert "Reviews cut at MAX_LEN" in sections["Data"] and "Median length" in sections["Data"]
    assert "Expected calibration error" in html
    emb = sections["Word embeddings"]
    assert "words found in the vocabulary" in emb and "<td>great</td>" in emb and "nearest words" in emb
    assert re.search(r"errors in 200 test reviews \(accuracy \d+\.\d%\)", sections["Errors"])
    assert "Invariance pairs" in sections["Challenge suite"]
    assert "Invariance group" in sections["Challenge suite"] and "<td>religion</td>" in sections["Challenge suite"]
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched from the network


def test_train_writes_untruncated_lengths(tiny_run, corpus_splits):
    df = pd.read_csv(tiny_run.run_dir / "test_predictions.csv")
    words = [len(r.text.split()) for r in corpus_splits.test]  # the synthetic corpus: one token per word
    assert df["n_tokens_full"].tolist() == words
    assert (df["n_tokens"] == df["n_tokens_full"].clip(upper=48)).all()  # max_len 48 in tiny_config


def _copy_run(tiny_run, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)
    return run


def test_error_section_shows_the_confident_mistakes(tiny_run, corpus_splits, tmp_path):
    run = _copy_run(tiny_run, tmp_path)
    preds = run / "test_predictions.csv"
    df = pd.read_csv(preds, dtype={"id": str})
    # Make the model confidently wrong on two reviews of each class: the report must list them.
    neg, pos = df.index[df["label"] == 0][:2], df.index[df["label"] == 1][:2]
    df.loc[neg, "p_positive"], df.loc[pos, "p_positive"] = 0.999, 0.001
    df.to_csv(preds, index=False)
    html = report(run, tmp_path / "r.html", corpus_splits.test, challenge=False, embeddings=False).read_text()
    errors = _sections(html)["Errors"]
    assert "not available" not in errors
    for i in df.loc[neg, "id"]:
        assert re.search(rf"<td>false positive</td><td>{re.escape(i)}</td>", errors)
    for i in df.loc[pos, "id"]:
        assert re.search(rf"<td>false negative</td><td>{re.escape(i)}</td>", errors)
    text = dict(zip((r.id for r in corpus_splits.test), (r.text for r in corpus_splits.test)))[df.loc[neg[0], "id"]]
    assert text in errors  # the review's own text, matched by id (short enough to be shown whole)


def test_error_section_refuses_reviews_that_do_not_match(tiny_run, tmp_path):
    from sentiment_lab.data import make_corpus

    other = make_corpus(200, seed=7, split="test")  # same ids test/0..199, other texts
    html = report(tiny_run.run_dir, tmp_path / "r.html", other, challenge=False, embeddings=False).read_text()
    assert re.search(r"not available: the test reviews found do not match the run(&#39;|')s predictions", html)


def test_report_cli(tiny_run, tmp_path):
    from typer.testing import CliRunner

    from sentiment_lab.cli import app

    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", str(tiny_run.run_dir), "-o", str(out), "--no-challenge",
                                   "--no-embeddings", "--no-errors"])
    assert res.exit_code == 0, res.output
    assert out.read_text().count(IMG) == 8  # data 2, curves 1, evaluation 5
    bad = CliRunner().invoke(app, ["report", str(tmp_path), "-o", str(out)])
    assert bad.exit_code == 1 and "not a run directory" in bad.output


def test_report_refuses_a_non_run_directory(tmp_path):
    from sentiment_lab.exceptions import InputError

    with pytest.raises(InputError, match="not a run directory"):
        report(tmp_path)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)")
def test_report_renders_in_headless_chromium(report_file, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(report_file.as_uri())
        assert page.locator("section.report-section").count() == 7
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 10 and all(w > 100 for w in widths)  # every embedded figure decoded
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_metrics_table_without_validation_drops_the_column():
    from sentiment_lab.analysis.report import _metrics_table

    both = _metrics_table({"val": {"accuracy": 0.8}, "test": {"accuracy": 0.9}})
    assert both["table"]["head"] == ["Metric", "Validation", "Test"] and both["table"]["rows"][0] == ("Accuracy", "0.8000", "0.9000")
    refit = _metrics_table({"val": None, "test": {"accuracy": 0.9}})  # data.val_fraction = 0
    assert refit["table"]["head"] == ["Metric", "Test"] and refit["table"]["rows"][0] == ("Accuracy", "0.9000")
    assert "val_fraction = 0" in refit["text"]
