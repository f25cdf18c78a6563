"""sentiment-lab: train, evaluate, explain and serve recurrent sentiment classifiers.

Start here:

    from sentiment_lab import SentimentClassifier, load_config
    clf = SentimentClassifier.from_pretrained()          # the shipped model; or "runs/x/bundle"
    clf("What a great film")                             # {"label": "positive", "score": ...}
    clf.predict_proba(["great", "awful"])                # (N, 2): P(negative), P(positive)

    from sentiment_lab.train import train                # what `sentiment-lab train` runs
    result = train(load_config("seed", ["data.limit=2000"]), "runs/quick")

    from sentiment_lab.explain import explain            # attributions, gates, hidden states
    explain(clf, "The first half was dull, but the ending was brilliant.")

Errors meant for the user derive from `SentimentLabError` (ConfigError, DataError,
BundleError, InputError) and carry a one-line message. Names are imported lazily so that
`sentiment-lab predict` starts without loading scikit-learn or pandas.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "SentimentClassifier": "sentiment_lab.classifier",
    "Config": "sentiment_lab.config", "DataConfig": "sentiment_lab.config", "TextConfig": "sentiment_lab.config",
    "ModelConfig": "sentiment_lab.config", "TrainConfig": "sentiment_lab.config", "load_config": "sentiment_lab.config",
    "load_imdb": "sentiment_lab.data", "load_splits": "sentiment_lab.data", "load_table": "sentiment_lab.data",
    "make_corpus": "sentiment_lab.data",
    "compute_metrics": "sentiment_lab.evaluate", "evaluate_bundle": "sentiment_lab.evaluate",
    "fit": "sentiment_lab.train",  # train() itself: from sentiment_lab.train (the name is the module)
    "Explanation": "sentiment_lab.explain",  # explain() itself: from sentiment_lab.explain (the name is the subpackage)
    "save_pretrained": "sentiment_lab.bundle", "load_pretrained": "sentiment_lab.bundle",
    "get_baseline": "sentiment_lab.baselines", "load_baseline": "sentiment_lab.baselines",
    "LLMClient": "sentiment_lab.llm", "LLMClassifier": "sentiment_lab.llm", "LLMSettings": "sentiment_lab.llm",
    "generate_reviews": "sentiment_lab.llm", "run_compare": "sentiment_lab.compare", "build_samples": "sentiment_lab.compare",
    "build_methods": "sentiment_lab.compare",
    "embedding_report": "sentiment_lab.embeddings",
    "analyze_errors": "sentiment_lab.error_analysis",
    "create_app": "sentiment_lab.serve",
    "SentimentLabError": "sentiment_lab.errors", "ConfigError": "sentiment_lab.errors",
    "DataError": "sentiment_lab.errors", "BundleError": "sentiment_lab.errors", "InputError": "sentiment_lab.errors",
}
__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'sentiment_lab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))  # tab completion in notebooks sees the lazy names
