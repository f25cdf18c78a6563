"""Non-recurrent baselines behind the RNN classifier's interface (fit / predict /
predict_proba / score / __call__), each saved without pickle (safetensors + JSON).

    from sentiment_lab.compare.baselines import get_baseline, load_baseline
    clf = get_baseline("nbsvm", ngram_range=(1, 3)).fit(texts, labels)
    clf.save_pretrained("runs/nbsvm");  load_baseline("runs/nbsvm")(["a great film"])

Names (the registry below; classes are imported only when asked for, so that listing the
names loads neither scikit-learn nor sentence-transformers):

    vader                VADER lexicon, thresholded compound score
    tfidf                TF-IDF word 1-2 grams + logistic regression
    nbsvm                NBSVM (Wang and Manning 2012), log-count ratios + SVM, interpolated
    sentence-embeddings  all-MiniLM-L6-v2 (or any sentence-transformers model) + logistic regression
    fasttext             fastText, supervised, word bigrams (trained by the `fasttext` package; predicts with NumPy)
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import ConfigError

REGISTRY: dict[str, str] = {
    "vader": "sentiment_lab.compare.baselines.lexicon:VaderBaseline",
    "tfidf": "sentiment_lab.compare.baselines.tfidf:TfidfLogReg",
    "nbsvm": "sentiment_lab.compare.baselines.nbsvm:NBSVM",
    "sentence-embeddings": "sentiment_lab.compare.baselines.sentence_embeddings:SentenceEmbeddingLogReg",
    "fasttext": "sentiment_lab.compare.baselines.fasttext_bigrams:FastTextBaseline",
}
ALIASES = {"lexicon": "vader", "tfidf-logreg": "tfidf", "minilm": "sentence-embeddings", "embeddings": "sentence-embeddings"}


def baseline_class(name: str) -> type:
    key = ALIASES.get(name, name)
    if key not in REGISTRY:
        raise ConfigError(f"unknown baseline {name!r}; choose one of {', '.join(REGISTRY)}")
    module, cls = REGISTRY[key].split(":")
    return getattr(importlib.import_module(module), cls)


def get_baseline(name: str, **params: Any) -> Any:
    """An unfitted baseline; unknown parameters are refused with the valid ones listed."""
    cls = baseline_class(name)
    bad = sorted(set(params) - set(cls.param_names))
    if bad:
        raise ConfigError(f"baseline {name!r} has no parameter {', '.join(bad)}; valid: {', '.join(cls.param_names)}")
    return cls(**params)


def load_baseline(directory: str | Path) -> Any:
    """A fitted baseline from a directory written by `save_pretrained`, whatever its kind."""
    from sentiment_lab.compare.baselines.base import read_meta
    from sentiment_lab.exceptions import BundleError

    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"baseline directory not found: {directory}")
    return baseline_class(read_meta(directory)["name"]).from_pretrained(directory)


__all__ = ["REGISTRY", "baseline_class", "get_baseline", "load_baseline"]
