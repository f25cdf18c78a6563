"""One interface, every classifier: each check below runs on every backend of SentimentClassifier
(torch, numpy, onnx, onnx-int8) and on every baseline, the way scikit-learn's
parametrize_with_checks runs its estimator checks. A new backend or baseline joins by adding a
line to CLASSIFIERS; a check that does not hold for it fails under its name."""
from __future__ import annotations

import numpy as np
import pytest

from sentiment_lab.exceptions import DataError, InputError
from sentiment_lab.inference.postprocess import LABELS, postprocess

TEXTS = ["the film was great", "the plot was awful", "a superb story and wonderful actors",
         "a dull , boring scene", "zorblax", "great great acting but an awful , dull ending",
         "What a wonderful, moving film!", "A dull, awful mess."]


def _rnn(backend):
    def build(tiny_bundle, onnx_bundle, corpus):
        from sentiment_lab.inference.classifier import SentimentClassifier

        return SentimentClassifier.from_pretrained(onnx_bundle if backend.startswith("onnx") else tiny_bundle,
                                                   backend=backend)
    return build


def _baseline(name, limit=None, **params):
    def build(tiny_bundle, onnx_bundle, corpus):
        from sentiment_lab.compare.baselines import get_baseline

        clf = get_baseline(name, **params)
        texts, labels = corpus
        return clf if name == "vader" else clf.fit(texts[:limit], labels[:limit])  # VADER works unfitted
    return build


CLASSIFIERS = {"torch": _rnn("torch"), "numpy": _rnn("numpy"), "onnx": _rnn("onnx"), "onnx-int8": _rnn("onnx-int8"),
               "vader": _baseline("vader"), "tfidf": _baseline("tfidf"), "nbsvm": _baseline("nbsvm"),
               "sentence-embeddings": _baseline("sentence-embeddings", limit=40, C=10.0),  # MiniLM is slow on a CPU
               "fasttext": _baseline("fasttext", bucket=50_000, epoch=25)}  # a small hash table: a small model
NEEDS = {"onnx": "onnxruntime", "onnx-int8": "onnxruntime", "sentence-embeddings": "sentence_transformers",
         "fasttext": "fasttext"}
# dynamic int8 quantizes each batch's activations with that batch's range: the same text in
# another batch moves by ~1e-4 (the int8 model's own tolerance to fp32 is 0.02, test_onnx.py)
ORDER_TOLERANCE = {"onnx-int8": 2e-3}


@pytest.fixture(scope="module")
def onnx_bundle(tiny_bundle, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    from sentiment_lab.inference.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("interface") / "onnx_bundle"
    export_onnx(tiny_bundle, out, quantize="int8")
    return out


@pytest.fixture(scope="module")
def built(request, tiny_bundle, corpus_splits):
    """name -> classifier, each built once per module (ONNX export only when asked for)."""
    cache = {}
    corpus = ([r.text for r in corpus_splits.train], [r.label for r in corpus_splits.train])

    def get(name):
        if name not in cache:
            if name in NEEDS:
                pytest.importorskip(NEEDS[name])
            onnx = request.getfixturevalue("onnx_bundle") if name.startswith("onnx") else None
            cache[name] = CLASSIFIERS[name](tiny_bundle, onnx, corpus)
        return cache[name]
    return get


# ---- the checks ----
def check_predict_proba(clf):
    p = clf.predict_proba(TEXTS)
    assert isinstance(p, np.ndarray) and p.shape == (len(TEXTS), 2) and p.dtype == np.float64
    assert ((p >= 0) & (p <= 1)).all() and np.allclose(p.sum(axis=1), 1)
    assert clf.predict_proba(TEXTS[:1]).shape == (1, 2)


def check_input_order_kept(clf, atol=1e-6):
    p = clf.predict_proba(TEXTS)
    np.testing.assert_allclose(clf.predict_proba(TEXTS[::-1])[::-1], p, atol=atol)


def check_one_text_gives_a_dict(clf):
    one = clf(TEXTS[0])
    assert isinstance(one, dict) and list(one) == ["label", "score"]
    assert one == postprocess(clf.predict_proba(TEXTS[:1])[0, 1], with_p_positive=False)
    assert one["label"] in LABELS and 0.5 <= one["score"] <= 1


def check_many_texts_give_a_list(clf):
    many = clf(TEXTS)
    assert isinstance(many, list) and len(many) == len(TEXTS)
    assert many == [postprocess(q, with_p_positive=False) for q in clf.predict_proba(TEXTS)[:, 1]]
    assert clf(TEXTS[:1]) == [clf(TEXTS[0])]


def check_predict_is_argmax(clf):
    p = clf.predict_proba(TEXTS)
    expected = [LABELS[1] if row[0] == row[1] else LABELS[int(np.argmax(row))] for row in p]  # a tie reads positive
    assert clf.predict(TEXTS) == expected
    assert clf.labels == LABELS


def check_score(clf):
    y = [int(label == "positive") for label in clf.predict(TEXTS)]
    assert clf.score(TEXTS, y) == 1.0 and clf.score(TEXTS, [1 - v for v in y]) == 0.0
    assert clf.score(TEXTS, np.array(y, dtype=bool)) == 1.0
    for labels, message in ((["positive"] * len(TEXTS), "labels must be 0"), ([2] * len(TEXTS), "labels must be 0"),
                            (y[:-1], f"{len(TEXTS)} texts but {len(TEXTS) - 1} labels")):
        with pytest.raises(DataError, match=message):
            clf.score(TEXTS, labels)


def check_bad_input(clf):
    for method in (clf.predict, clf.predict_proba):
        for bad in ("great movie", None, {"text": "good"}):
            with pytest.raises(InputError, match="list of texts"):
                method(bad)
    for bad in ({"text": "good"}, None, 5):
        with pytest.raises(InputError, match="list of texts"):
            clf(bad)
    with pytest.raises(InputError):
        clf("   ")
    with pytest.raises(InputError):
        clf.predict(["fine", ""])


CHECKS = [check_predict_proba, check_input_order_kept, check_one_text_gives_a_dict, check_many_texts_give_a_list,
          check_predict_is_argmax, check_score, check_bad_input]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_interface(name, check, built):
    if check is check_input_order_kept and name in ORDER_TOLERANCE:
        check(built(name), ORDER_TOLERANCE[name])
    else:
        check(built(name))
