import numpy as np
import pytest

from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.exceptions import InputError


@pytest.fixture(scope="module")
def clf(tiny_bundle):
    return SentimentClassifier.from_pretrained(tiny_bundle)


def test_one_text_and_many(clf):
    one = clf("the film was great")
    assert set(one) == {"label", "score"} and one["label"] == "positive" and 0.5 <= one["score"] <= 1
    many = clf(["the film was great", "the plot was awful"])
    assert [m["label"] for m in many] == ["positive", "negative"]
    assert many[0] == pytest.approx(one)


def test_predict_proba_and_score(clf):
    texts = ["great", "awful", "a superb story", "a dull scene"]
    p = clf.predict_proba(texts)
    assert p.shape == (4, 2) and np.allclose(p.sum(axis=1), 1)
    assert clf.predict(texts) == ["positive", "negative", "positive", "negative"]
    assert clf.score(texts, [1, 0, 1, 0]) == 1.0


def test_batch_does_not_change_a_prediction(clf):
    texts = ["the film was great and the actors really wonderful"] + ["awful " * k for k in range(1, 30)]
    alone = clf.predict_proba(texts[:1])
    together = clf.predict_proba(texts)[:1]
    np.testing.assert_allclose(alone, together, atol=1e-6)


@pytest.mark.parametrize("bad", ["", "  ", "x" * 1_000_001])
def test_bad_input(clf, bad):
    with pytest.raises(InputError):
        clf(bad)


def test_predict_refuses_a_bare_string(clf):
    """predict("great movie") read each character as a review and failed on the space."""
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(InputError, match="list of texts"):
            method("great movie")
        with pytest.raises(InputError, match="list of texts"):
            method(None)


def test_bad_arguments_are_user_errors_not_wrong_answers(clf):
    """score() compared labels as truthy values ("positive", 2 and a short list gave an accuracy),
    a dict was classified by its keys, None/"gpu"/"tf" raised deep torch or Python errors."""
    from sentiment_lab.exceptions import ConfigError, DataError

    texts = ["the film was great", "the plot was awful"]
    assert clf.score(texts, [1, 0]) == 1.0 and clf.score(texts, [True, False]) == 1.0
    for labels, message in ((["positive", "negative"], "labels must be 0"), ([2, 0], "labels must be 0"),
                            ([1], "2 texts but 1 labels"), ([1, 0, 1], "2 texts but 3 labels")):
        with pytest.raises(DataError, match=message):
            clf.score(texts, labels)
    with pytest.raises(DataError, match="no texts"):
        clf.score([], [])
    for bad in ({"text": "good"}, None, 5):
        with pytest.raises(InputError, match="list of texts"):
            clf(bad)
    with pytest.raises(ConfigError, match="backend must be one of"):
        SentimentClassifier.from_pretrained(clf.path, backend="tf")
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        clf.to("gpu")
    assert repr(clf).startswith(f"SentimentClassifier({clf.path.name!r}, lstm.v1") and "backend='torch'" in repr(clf)


def test_unknown_words(clf):
    assert clf.unknown_words("the Zorblax film") == ["Zorblax"]


def test_save_pretrained_writes_the_bundle_it_came_from(clf, tmp_path):
    out = clf.save_pretrained(tmp_path / "copy")
    source = sorted(p.name for p in clf.path.iterdir() if not p.name.startswith("."))
    assert sorted(p.name for p in out.iterdir()) == source  # config, card, manifest files; nothing else
    assert all((out / name).read_bytes() == (clf.path / name).read_bytes() for name in source)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left behind
    again = SentimentClassifier.from_pretrained(out)
    texts = ["the film was great", "the plot was awful"]
    assert np.array_equal(again.predict_proba(texts), clf.predict_proba(texts))
    assert again.save_pretrained(out) == out  # over an older bundle: replaced whole


def test_save_pretrained_refuses(clf, tmp_path):
    import json
    import shutil

    from sentiment_lab.exceptions import BundleError, ConfigError
    from sentiment_lab.inference.bundle import _sha256

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="already holds other files"):
        clf.save_pretrained(tmp_path / "other")
    orphan = SentimentClassifier(clf.model, clf.encoder, clf.config, {}, backend="torch")
    with pytest.raises(ConfigError, match="not loaded with from_pretrained"):
        orphan.save_pretrained(tmp_path / "x")
    # the bundle on disk was replaced (consistently) after loading: refuse rather than save another model
    src = shutil.copytree(clf.path, tmp_path / "src")
    loaded = SentimentClassifier.from_pretrained(src)
    (src / "metrics.json").write_text("{}")
    meta = json.loads((src / "config.json").read_text())
    meta["sha256"]["metrics.json"] = _sha256(src / "metrics.json")
    (src / "config.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="changed since it was loaded"):
        loaded.save_pretrained(tmp_path / "y")
    assert not (tmp_path / "y").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_backend_enum_and_plain_strings(tiny_bundle):
    from sentiment_lab.inference.backends import BACKENDS, Backend
    from sentiment_lab.inference.classifier import BACKENDS as EXPORTED

    assert BACKENDS == EXPORTED == ("torch", "numpy", "onnx", "onnx-int8", "auto")
    a = SentimentClassifier.from_pretrained(tiny_bundle, backend=Backend.NUMPY)
    b = SentimentClassifier.from_pretrained(tiny_bundle, backend="numpy")
    assert a.backend == b.backend == "numpy" == Backend.NUMPY and type(a.backend) is str
    assert np.array_equal(a.predict_proba(["great film"]), b.predict_proba(["great film"]))


def test_postprocess_is_the_one_rule():
    from sentiment_lab.inference.postprocess import postprocess, postprocess_columns

    assert postprocess(0.25) == {"label": "negative", "score": 0.75, "p_positive": 0.25}
    assert postprocess(0.5) == {"label": "positive", "score": 0.5, "p_positive": 0.5}  # the tie reads positive
    assert list(postprocess(np.float64(0.9), with_p_positive=False)) == ["label", "score"]
    assert all(type(v) is float for v in list(postprocess(np.float32(0.7)).values())[1:])
    p = np.array([0.1, 0.5, 0.93, 0.4999])
    cols = postprocess_columns(p)
    assert list(cols) == ["label", "score", "p_positive"]
    assert [dict(zip(cols, row)) for row in zip(*cols.values())] == [postprocess(q) for q in p]
