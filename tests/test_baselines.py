"""Baselines: the classifier interface, learning on a tiny corpus, pickle-free save/load
round trips with identical probabilities, validation messages, and the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sentiment_lab.compare.baselines import get_baseline, load_baseline
from sentiment_lab.compare.baselines.lexicon import best_threshold
from sentiment_lab.compare.baselines.nbsvm import NBSVM, interpolate, log_count_ratio
from sentiment_lab.cli import app
from sentiment_lab.exceptions import BundleError, ConfigError, DataError, InputError, SentimentLabError


def xy(records):
    return [r.text for r in records], [r.label for r in records]


@pytest.mark.parametrize("name, params, floor", [("vader", {}, 0.8), ("vader", {"tune_threshold": True}, 0.8),
                                                 ("tfidf", {}, 0.9), ("nbsvm", {}, 0.9)])
def test_learns_and_round_trips(name, params, floor, corpus_splits, tmp_path):
    x, y = xy(corpus_splits.train)
    xt, yt = xy(corpus_splits.test)
    clf = get_baseline(name, **params).fit(x, y)
    assert clf.score(xt, yt) >= floor
    p = clf.predict_proba(xt)
    assert p.shape == (len(xt), 2) and np.allclose(p.sum(axis=1), 1) and ((p >= 0) & (p <= 1)).all()
    assert clf.predict(xt[:3]) == ["positive" if q >= 0.5 else "negative" for q in p[:3, 1]]
    one = clf(xt[0])
    assert set(one) == {"label", "score"} and one["score"] >= 0.5 and clf(xt[:2])[0] == one
    clf.save_pretrained(tmp_path / name)
    assert {f.suffix for f in (tmp_path / name).iterdir()} <= {".json", ".safetensors"}  # no pickle
    again = load_baseline(tmp_path / name)
    assert type(again) is type(clf) and again.get_params() == clf.get_params()
    assert np.array_equal(again.predict_proba(xt), p)


def test_tfidf_learns_ngrams_and_params(corpus_splits):
    clf = get_baseline("tfidf", ngram_range=(1, 2), C=1.0).fit(*xy(corpus_splits.train))
    top = clf.top_features(5)
    assert len(top["positive"]) == 5 and top["positive"][0][1] > 0 > top["negative"][0][1]
    assert any(" " in t for t in clf.vectorizer_.vocabulary_)  # bigrams are in the vocabulary


def test_nbsvm_paper_rules(corpus_splits):
    x, y = xy(corpus_splits.train)
    clf = get_baseline("nbsvm", calibration_folds=2).fit(x, y)
    xt, _ = xy(corpus_splits.test)
    # label = sign of the margin (Wang and Manning), the probability only rescales it
    assert np.array_equal(clf.predict_proba(xt)[:, 1] >= 0.5, clf.decision_function(xt) >= 0)
    w = np.array([1.0, -3.0, 2.0])
    assert np.allclose(interpolate(w, 1.0), w) and np.allclose(interpolate(w, 0.0), 2.0)
    f = clf.vectorizer_.transform(x)
    r = log_count_ratio(f, np.array(y), 1.0)
    vocab = clf.vectorizer_.vocabulary_
    assert r[vocab["terrible"]] < 0 < r[vocab["moving"]]


def test_vader_threshold():
    s = np.array([-0.9, -0.2, 0.1, 0.3, 0.6, 0.95])
    assert best_threshold(s, np.array([0, 0, 0, 1, 1, 1])) == pytest.approx(0.2)
    assert get_baseline("vader", tune_threshold=True).fit(["good", "great", "bad", "awful", "fine"],
                                                          [1, 1, 0, 0, 0]).threshold_ > 0.2  # "fine" is negative here
    clf = get_baseline("vader")  # VADER's own rule: compound >= 0.05
    assert clf(["What a wonderful, moving film!"])[0]["label"] == "positive"  # usable without fit
    assert clf("A dull, awful mess.")["label"] == "negative"


def test_sentence_embeddings_offline_round_trip(tmp_path):
    texts = ["A wonderful film, I loved it", "Brilliant acting and a moving story", "Great fun from start to end",
             "An awful, boring mess", "I hated every minute", "Terrible plot and bad acting"]
    clf = get_baseline("sentence-embeddings", C=10.0).fit(texts, [1, 1, 1, 0, 0, 0])
    assert clf.predict(["What a great movie", "What a dreadful movie"]) == ["positive", "negative"]
    p = clf.predict_proba(texts)
    clf.save_pretrained(tmp_path / "emb")
    again = load_baseline(tmp_path / "emb")
    again._encoder = clf._encoder  # the encoder is loaded by name (above); the saved part is the LR
    assert np.array_equal(again.predict_proba(texts), p)


def test_validation_messages(corpus_splits, tmp_path):
    with pytest.raises(ConfigError, match="unknown baseline 'svm'; choose one of vader, tfidf, nbsvm"):
        get_baseline("svm")
    with pytest.raises(ConfigError, match="no parameter gamma; valid: ngram_range"):
        get_baseline("tfidf", gamma=1)
    with pytest.raises(DataError, match="not fitted"):
        get_baseline("tfidf").predict(["x"])
    with pytest.raises(DataError, match="only one label"):
        get_baseline("tfidf").fit(["a b", "c d"], [1, 1])
    with pytest.raises(DataError, match="2 texts but 1 labels"):
        get_baseline("nbsvm").fit(["a b", "c d"], [1])
    clf = get_baseline("tfidf").fit(*xy(corpus_splits.train))
    with pytest.raises(InputError, match="empty"):
        clf.predict(["  "])
    d = clf.save_pretrained(tmp_path / "t")
    with pytest.raises(BundleError, match="holds a 'tfidf' baseline, not 'nbsvm'"):
        NBSVM.from_pretrained(d)
    vocab = d / "vocabulary.json"
    vocab.write_text(vocab.read_text().replace('"', "'", 2))
    with pytest.raises(BundleError, match="vocabulary.json does not match its checksum"):
        load_baseline(d)
    with pytest.raises(BundleError, match="not a saved baseline"):
        load_baseline(tmp_path)
    with pytest.raises(InputError, match="list of texts"):  # was read one character at a time
        clf.predict("What a great film")
    with pytest.raises(DataError, match="labels must be 0"):
        clf.score(["a", "b"], ["positive", "negative"])
    from sentiment_lab.analysis.explain import explain

    with pytest.raises(SentimentLabError, match="explain needs a SentimentClassifier"):
        explain(clf, "great film")


runner = CliRunner()


def test_cli_train_evaluate_predict(imdb_archive, tmp_path):
    out = tmp_path / "nb"
    r = runner.invoke(app, ["baseline", "train", "nbsvm", "--data", str(imdb_archive), "-p", "ngram_range=1,3",
                            "-p", "C=0.5", "-o", str(out)])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "baseline.json").read_text())
    assert meta["params"]["ngram_range"] == [1, 3] and meta["params"]["C"] == 0.5
    assert meta["metrics"]["test"]["accuracy"] == 1.0 and meta["metrics"]["train_n"] == 12
    r = runner.invoke(app, ["baseline", "evaluate", str(out), "--data", str(imdb_archive), "-o", str(tmp_path / "m.json")])
    assert r.exit_code == 0 and json.loads((tmp_path / "m.json").read_text())["n"] == 12
    r = runner.invoke(app, ["baseline", "predict", str(out), "a great film", "really awful"])
    assert [json.loads(x)["label"] for x in r.output.splitlines()] == ["positive", "negative"]
    r = runner.invoke(app, ["baseline", "train", "svm", "--data", str(imdb_archive), "-o", str(tmp_path / "x")])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 1 and len(lines) == 1 and "unknown baseline 'svm'" in lines[0]
    assert not (tmp_path / "x").exists()


def test_cli_train_refuses_bad_params_and_foreign_outputs(imdb_archive, tmp_path):
    """scikit-learn's parameter checks surface as one line; -o never replaces a file or another folder."""
    def one_line_error(args, fragment):
        r = runner.invoke(app, ["baseline", "train", *map(str, args)])
        errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert len(errors) == 1 and fragment in errors[0] and r.output.rstrip().endswith(errors[0]), r.output

    one_line_error(["tfidf", "--data", imdb_archive, "-p", "C=-1", "-o", tmp_path / "t"], "'C' parameter")
    one_line_error(["tfidf", "--data", imdb_archive, "-p", "min_df=abc", "-o", tmp_path / "t"], "'min_df' parameter")
    assert not (tmp_path / "t").exists()
    notes = tmp_path / "notes.txt"
    notes.write_text("precious")
    one_line_error(["vader", "--data", imdb_archive, "-o", notes], "is a file")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("precious")
    one_line_error(["vader", "--data", imdb_archive, "-o", tmp_path / "mine"], "already holds other files")
    assert notes.read_text() == "precious" and (tmp_path / "mine" / "data.csv").read_text() == "precious"
    r = runner.invoke(app, ["baseline", "train", "vader", "--data", str(imdb_archive), "-o", str(tmp_path / "v")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["baseline", "train", "vader", "--data", str(imdb_archive), "-o", str(tmp_path / "v")])
    assert r.exit_code == 0, r.output  # retraining into its own earlier output is allowed


# ---- checksums (security audit): the same verify as a model bundle's ----

@pytest.fixture
def saved_tfidf(corpus_splits, tmp_path):
    return get_baseline("tfidf").fit(*xy(corpus_splits.train)).save_pretrained(tmp_path / "t")


def _rewrite(d, edit, sealed=None):
    """Edit baseline.json; sealed=True recomputes its own checksum, False drops it (a baseline
    saved before the field existed), None leaves it."""
    from sentiment_lab.compare.baselines.base import layout
    from sentiment_lab.inference.integrity import DIGEST, seal

    meta = json.loads((d / "baseline.json").read_text())
    edit(meta)
    if sealed:
        seal(meta, layout(meta["name"]))
    elif sealed is False:
        meta.pop(DIGEST, None)
    (d / "baseline.json").write_text(json.dumps(meta, indent=2))


def _refused(d, match):
    with pytest.raises(BundleError, match=match) as info:
        load_baseline(d)
    assert "\n" not in str(info.value)


def test_baselines_share_the_bundle_verify_function():
    from sentiment_lab.compare.baselines import base
    from sentiment_lab.inference import bundle, integrity

    assert base.verify is bundle.verify is integrity.verify
    assert base.layout("tfidf").required == ("arrays.safetensors", "vocabulary.json")
    assert base.layout("vader").required == base.layout("sentence-embeddings").required == ("arrays.safetensors",)


def test_saved_baselines_list_exactly_their_files(saved_tfidf, tmp_path):
    from sentiment_lab.inference.integrity import DIGEST

    meta = json.loads((saved_tfidf / "baseline.json").read_text())
    assert set(meta["sha256"]) == {"arrays.safetensors", "vocabulary.json"} and DIGEST in meta
    vader = get_baseline("vader").save_pretrained(tmp_path / "v")
    assert set(json.loads((vader / "baseline.json").read_text())["sha256"]) == {"arrays.safetensors"}


@pytest.mark.parametrize("legacy", [False, True], ids=["sealed", "legacy"])
def test_baseline_with_its_sha256_table_deleted_is_refused(saved_tfidf, legacy):
    (saved_tfidf / "vocabulary.json").write_text('["altered"]')
    _rewrite(saved_tfidf, lambda m: m.pop("sha256"), sealed=False if legacy else None)
    _refused(saved_tfidf, "baseline.json has no sha256 table" if legacy
             else "was changed: baseline.json does not match its own checksum")


@pytest.mark.parametrize("legacy", [False, True], ids=["resealed", "legacy"])
def test_baseline_manifest_must_list_every_file(saved_tfidf, legacy):
    _rewrite(saved_tfidf, lambda m: m["sha256"].pop("vocabulary.json"), sealed=not legacy)
    _refused(saved_tfidf, "is incomplete: baseline.json does not list vocabulary.json")


@pytest.mark.parametrize("name", ["/etc/hostname", "../t/vocabulary.json", "a\\b"])
def test_baseline_manifest_naming_a_path_outside_is_refused(saved_tfidf, name):
    _rewrite(saved_tfidf, lambda m: m["sha256"].update({name: "0" * 64}), sealed=True)
    _refused(saved_tfidf, "baseline.json lists .* which is not a file of the baseline")


def test_baseline_json_itself_is_checked(saved_tfidf):
    _rewrite(saved_tfidf, lambda m: m["params"].update(C=1000.0))
    _refused(saved_tfidf, "was changed: baseline.json does not match its own checksum")
    # another kind's name with this kind's files: the set no longer fits, sealed or not
    _rewrite(saved_tfidf, lambda m: m.update(name="vader"), sealed=True)
    _refused(saved_tfidf, "lists an unexpected file 'vocabulary.json'")


def test_a_baseline_saved_before_the_seal_still_loads(saved_tfidf, corpus_splits):
    x, _ = xy(corpus_splits.test)
    p = load_baseline(saved_tfidf).predict_proba(x)
    _rewrite(saved_tfidf, lambda m: None, sealed=False)
    assert np.array_equal(load_baseline(saved_tfidf).predict_proba(x), p)
