"""Error analysis: error kinds, ranking, rates by length/rating computed right on hand-made
predictions; run-directory predictions reused; report files; `errors` CLI and its errors."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.cli import app
from sentiment_lab.data import Record
from sentiment_lab.analysis.error_analysis import (analyze_errors, confident_errors, prediction_table, predictions_from_run,
                                          rates_by_length, rates_by_rating, shorten, write_report)
from sentiment_lab.exceptions import DataError


def _records():
    # 8 reviews: lengths 1..8 words, ratings 1,2,3,4,7,8,9,10, labels from the rating
    return [Record(" ".join(["film"] * n), int(r >= 7), "test", f"r{n}", r)
            for n, r in zip(range(1, 9), (1, 2, 3, 4, 7, 8, 9, 10))]


P = np.array([0.9, 0.2, 0.6, 0.1, 0.3, 0.8, 0.45, 0.99])  # FP r1 (0.9), r3 (0.6); FN r5 (0.3), r7 (0.45)


def test_table_kinds_and_ranking():
    t = prediction_table(_records(), P, np.arange(1, 9))
    assert t["error"].tolist() == ["FP", "", "FP", "", "FN", "", "FN", ""]
    assert confident_errors(t, "FP", 5)["id"].tolist() == ["r1", "r3"]  # 0.9 sure before 0.6 sure
    assert confident_errors(t, "FN", 1)["id"].tolist() == ["r5"]  # P(neg) 0.7 beats 0.55


def test_rates():
    t = prediction_table(_records(), P, np.arange(1, 9))
    by_r = rates_by_rating(t)
    assert by_r["bin"].tolist() == [1, 2, 3, 4, 7, 8, 9, 10]
    assert by_r["errors"].tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    by_l = rates_by_length(t, n_bins=2)
    assert by_l["n"].sum() == 8 and by_l["errors"].sum() == 4
    assert by_l["error_rate"].tolist() == pytest.approx([0.5, 0.5])
    assert (by_l["false_positives"] + by_l["false_negatives"] == by_l["errors"]).all()
    assert rates_by_rating(t.assign(rating=pd.array([None] * 8, dtype="Int64"))) is None


def test_shorten_keeps_head_and_tail():
    s = shorten("start " + "middle " * 200 + "the verdict<br />", 80)
    assert s.startswith("start") and s.endswith("the verdict") and "[...]" in s and len(s) <= 80


def test_analyze_and_report(tmp_path, tiny_bundle):
    clf = SentimentClassifier.from_pretrained(tiny_bundle)
    res = analyze_errors(clf, _records(), P, n_examples=1, ig_steps=4)
    assert res.accuracy == 0.5
    assert res.false_positives["id"].tolist() == ["r1"] and res.false_negatives["id"].tolist() == ["r5"]
    assert res.table["length"].tolist() == list(range(1, 9))  # model tokens
    a = res.attributions["r5"]  # Integrated Gradients from sentiment_lab.analysis.explain, one value per token read
    assert a["tokens"] == ["film"] * 5 and len(a["values"]) == 5
    assert len(a["top_positive"]) <= 1 and len(a["top_negative"]) <= 1  # a word is listed once each way
    assert set(res.attributions) == {"r1", "r5"}
    paths = write_report(res, tmp_path, max_len=48)
    summary = json.loads((tmp_path / "errors.json").read_text())
    assert summary["errors"] == 4 and summary["false_positives"] == 2
    assert summary["most_confident_false_positives"][0]["id"] == "r1"
    assert len(summary["by_rating"]) == 8
    assert len(pd.read_csv(tmp_path / "errors.csv")) == 4
    assert (tmp_path / "error_rates.png").stat().st_size > 10000 and "r5" in (tmp_path / "errors.html").read_text()
    assert set(paths) >= {"summary", "errors_csv", "figure", "html", "by_rating_csv"}


def test_predictions_from_run(tiny_run, corpus_splits):
    records, p = predictions_from_run(tiny_run.run_dir, corpus_splits.test)
    assert [r.id for r in records] == [r.id for r in corpus_splits.test] and len(p) == len(records)
    with pytest.raises(DataError, match="no review in the data"):
        predictions_from_run(tiny_run.run_dir, corpus_splits.test[:10])


def test_cli_run_dir(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run.run_dir, run)
    df = pd.read_csv(run / "test_predictions.csv")
    df.loc[:3, "p_positive"] = 1 - df.loc[:3, "p_positive"]  # four made-up mistakes
    df.to_csv(run / "test_predictions.csv", index=False)
    res = CliRunner().invoke(app, ["errors", str(run), "-n", "2", "--ig-steps", "2", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "out" / "errors.json").read_text())
    expected = int(((df["p_positive"] >= 0.5) != (df["label"] == 1)).sum())
    assert s["errors"] == expected >= 4 and s["n"] == len(df)
    assert "Most confident false" in res.output and "Error rate by review length" in res.output


def test_cli_rating_table_has_integers(tmp_path):
    from conftest import write_imdb_archive

    archive = write_imdb_archive(tmp_path / "a.tar.gz")
    res = CliRunner().invoke(app, ["errors", "--data", str(archive), "--no-attributions", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "Error rate by star rating" in res.output and "12.0" not in res.output and " 6 " in res.output


def test_cli_bundle_on_table(tiny_bundle, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("text,label\n" + "".join(f"a great film {i},{i % 2}\n" for i in range(10)))
    res = CliRunner().invoke(app, ["errors", str(tiny_bundle), "--data", str(table), "--no-attributions",
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "out" / "errors.json").read_text())
    assert s["n"] == 10 and s["errors"] == 5  # the same words with both labels: half must be wrong
    assert s["by_rating"] is None


@pytest.mark.parametrize("args, message", [(["--examples", "-1"], "--examples must be"),
                                           (["--data", "missing.csv"], "missing.csv")])
def test_cli_errors(tiny_bundle, tmp_path, args, message):
    res = CliRunner().invoke(app, ["errors", str(tiny_bundle), "-o", str(tmp_path / "out"), *args])
    assert res.exit_code == 1 and message in res.output, res.output
