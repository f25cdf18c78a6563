"""compare: samples, metrics (invalid LLM answers counted wrong), the sentence table, the
agreement matrix, skipped methods with reasons, outputs, and the CLI (fake LLM server on
127.0.0.1 only)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from fake_llm_server import FakeLLMServer, completion
from typer.testing import CliRunner

from sentiment_lab.compare.baselines import get_baseline
from sentiment_lab.cli import app
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.compare.side_by_side import Sample, build_methods, build_samples, run_compare, scores, write_outputs
from sentiment_lab.exceptions import ConfigError
from sentiment_lab.compare.llm import LLMClassifier, LLMClient


@pytest.fixture(autouse=True)
def no_keys(monkeypatch, tmp_path):
    for var in ("MISTRAL_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))  # no cached IMDB, no shared LLM cache


def test_samples(corpus_splits):
    s = build_samples(corpus_splits.test, n=20, seed=0, challenge=True, sentences=["a great film"])
    assert [x.name for x in s] == ["imdb", "challenge", "sentences"]
    assert len(s[0].texts) == 20 and sum(s[0].labels) == 10 and s[1].groups and s[2].labels is None
    default = build_samples(None, challenge=False)
    assert [x.name for x in default] == ["sentences"] and "What a great film" in default[0].texts


def test_scores_count_invalid_as_wrong():
    acc, f1 = scores([1, 0, 1, 0], ["positive", "negative", "invalid", "invalid"])
    assert acc == 0.5 and 0 < f1 < 1


def test_run_compare_side_by_side(tiny_bundle, corpus_splits, tmp_path):
    x, y = [r.text for r in corpus_splits.train], [r.label for r in corpus_splits.train]
    with FakeLLMServer() as server:
        server.script = [{"body": completion("I cannot help with that.")}]  # the first answer is a refusal
        llm = LLMClassifier(LLMClient(provider="openai", base_url=server.url, model="m", price_in=1.0, price_out=1.0,
                                      concurrency=1, cache_dir=str(tmp_path / "c")))
        methods = {"rnn": SentimentClassifier.from_pretrained(tiny_bundle), "tfidf": get_baseline("tfidf").fit(x, y),
                   "llm-0shot": llm}
        samples = [Sample("imdb", ["a great film", "an awful film", "a great plot"], [1, 0, 1]),
                   Sample("sentences", ["the film was great", "awful, boring"])]
        res = run_compare(methods, samples, skipped={"llm-kshot": "no key"}, notes={"rnn": "tiny"})
    rows = {(r["method"], r["sample"]): r for r in res["metrics"]}
    llm_row = rows[("llm-0shot", "imdb")]
    assert llm_row["invalid"] == 1 and llm_row["accuracy"] == pytest.approx(2 / 3)
    assert llm_row["cost_usd"] == pytest.approx(3 * 62 / 1e6) and rows[("tfidf", "imdb")]["cost_usd"] == 0
    assert rows[("rnn", "sentences")]["accuracy"] is None and rows[("rnn", "imdb")]["reviews_per_s"] > 0
    a = res["agreement"]
    assert a["rnn"]["rnn"] == 1.0 and a["tfidf"]["llm-0shot"] == a["llm-0shot"]["tfidf"]
    # the refusal is left out of agreement: 4 valid LLM items
    llm_labels = [lab for s in ("imdb", "sentences") for lab in res["predictions"]["llm-0shot"][s]]
    tf_labels = [lab for s in ("imdb", "sentences") for lab in res["predictions"]["tfidf"][s]]
    same = [p == q for p, q in zip(llm_labels, tf_labels) if p != "invalid"]
    assert a["tfidf"]["llm-0shot"] == pytest.approx(np.mean(same))
    sent = res["sentences"]
    assert [r["text"] for r in sent] == ["the film was great", "awful, boring"]
    assert sent[0]["others"] == 2 and 0 <= sent[0]["agree_with_reference"] <= 2
    assert res["skipped"] == {"llm-kshot": "no key"}
    paths = write_outputs(res, tmp_path / "out")
    names = {p.name for p in paths}
    assert {"compare.json", "compare.md", "metrics.csv", "sentences.csv", "agreement.csv"} <= names
    md = (tmp_path / "out" / "compare.md").read_text()
    assert "llm-kshot**: skipped (no key)" in md and "agreement with rnn" in md
    assert json.loads((tmp_path / "out" / "compare.json").read_text())["reference"] == "rnn"


def test_build_methods_skips_unconfigured_llm_and_untrained(tiny_bundle):
    methods, skipped, notes = build_methods(["rnn", "tfidf", "llm-0shot", "llm-kshot"], rnn_bundle=tiny_bundle)
    assert list(methods) == ["rnn"]
    assert "MISTRAL_API_KEY" in skipped["llm-0shot"] and "--base-url" in skipped["llm-kshot"]
    assert "no training data" in skipped["tfidf"]
    with pytest.raises(ConfigError, match="unknown method"):
        build_methods(["bert"])


def test_a_saved_baseline_must_be_the_method_it_is_given_for(corpus_splits, tmp_path):
    """--baseline nbsvm=DIR with a TF-IDF model in DIR ran TF-IDF and reported it as NBSVM."""
    from sentiment_lab.compare.baselines import get_baseline
    from sentiment_lab.exceptions import BundleError

    tr = corpus_splits.train
    d = get_baseline("tfidf").fit([r.text for r in tr], [r.label for r in tr]).save_pretrained(tmp_path / "tf")
    methods, _, notes = build_methods(["tfidf"], baseline_dirs={"tfidf": d})
    assert type(methods["tfidf"]).__name__ == "TfidfLogReg" and notes["tfidf"] == f"loaded from {d}"
    with pytest.raises(BundleError, match="holds a 'tfidf' baseline, not 'nbsvm'"):
        build_methods(["nbsvm"], baseline_dirs={"nbsvm": d})


runner = CliRunner()


def test_cli_compare(tiny_bundle, imdb_archive, tmp_path):
    out = tmp_path / "cmp"
    with FakeLLMServer() as server:
        r = runner.invoke(app, ["compare", "a great film", "an awful film", "--methods", "rnn,vader,tfidf,llm-0shot,llm-kshot",
                                "-m", str(tiny_bundle), "--data", str(imdb_archive), "--n", "8", "--k-shot", "2",
                                "--no-challenge", "--base-url", server.url, "--llm-model", "m", "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert len(server.requests) == 2 * (8 + 2)
    res = json.loads((out / "compare.json").read_text())
    assert res["methods"] == ["rnn", "vader", "tfidf", "llm-0shot", "llm-kshot"] and not res["skipped"]
    assert {r["sample"] for r in res["metrics"]} == {"imdb", "sentences"}
    assert "Sentences side by side" in r.output and "Pairwise agreement" in r.output
    assert res["llm_usage"]["llm-0shot"]["cost_usd"] == 0.0  # a local server costs nothing
    # no key, no server: the LLM methods are listed as skipped with the reason; the rest runs
    r = runner.invoke(app, ["compare", "--methods", "rnn,llm-0shot", "-m", str(tiny_bundle), "--no-imdb",
                            "--no-challenge", "-o", str(tmp_path / "cmp2")])
    assert r.exit_code == 0, r.output
    assert "skipped llm-0shot" in " ".join(r.output.split()) and "MISTRAL_API_KEY" in r.output
    r = runner.invoke(app, ["compare", "--methods", "llm-0shot", "--no-imdb", "-o", str(tmp_path / "cmp3")])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: no method could run")


def test_one_method_alone_shows_no_agreement_fraction():
    from sentiment_lab.compare.side_by_side import sentence_table

    result = {"reference": "rnn", "sentences": [{"text": "great", "expected": None, "cells": {
        "rnn": {"label": "positive", "score": 0.9}}, "agree_with_reference": 0, "others": 0}]}
    assert sentence_table(result)[1][-1] == "-"  # was "0/0"
