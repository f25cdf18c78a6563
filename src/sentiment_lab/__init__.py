"""sentiment-lab: train, evaluate, explain and serve recurrent sentiment classifiers.

Start here:

    from sentiment_lab import SentimentClassifier, load_config
    clf = SentimentClassifier.from_pretrained()          # the default shipped model; or "imdb", "runs/x/bundle"
    clf("What a great film")                             # {"label": "positive", "score": ...}
    clf.predict_proba(["great", "awful"])                # (N, 2): P(negative), P(positive)

    from sentiment_lab import train, explain
    result = train(load_config("seed", ["data.limit=2000"]), "runs/quick")   # `sentiment-lab train`
    explain(clf, "The first half was dull, but the ending was brilliant.")   # attributions, gates

The package is laid out by stage (docs/architecture.md): data -> text -> models ->
inference -> analysis -> training -> compare -> chat -> serve / cli.

Errors meant for the user derive from `SentimentLabError` (ConfigError, DataError,
BundleError, InputError) and carry a one-line message. Names are imported lazily so that
`sentiment-lab predict` starts without loading scikit-learn or pandas.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "SentimentClassifier": "sentiment_lab.inference.classifier",
    "Config": "sentiment_lab.config", "DataConfig": "sentiment_lab.config", "TextConfig": "sentiment_lab.config",
    "ModelConfig": "sentiment_lab.config", "TrainConfig": "sentiment_lab.config", "load_config": "sentiment_lab.config",
    "load_imdb": "sentiment_lab.data", "load_splits": "sentiment_lab.data", "load_table": "sentiment_lab.data",
    "make_corpus": "sentiment_lab.data", "load_dataset": "sentiment_lab.data", "list_datasets": "sentiment_lab.data",
    "load_mixture": "sentiment_lab.data", "Backend": "sentiment_lab.inference.backends",
    "compute_metrics": "sentiment_lab.analysis.metrics", "evaluate_bundle": "sentiment_lab.analysis.metrics",
    "fit": "sentiment_lab.training.loop", "train": "sentiment_lab.training.loop", "resume_training": "sentiment_lab.training.loop", "TrainResult": "sentiment_lab.training.finish",
    "explain": "sentiment_lab.analysis.explain", "Explanation": "sentiment_lab.analysis.explain",
    "save_pretrained": "sentiment_lab.inference.bundle", "load_pretrained": "sentiment_lab.inference.bundle",
    "get_baseline": "sentiment_lab.compare.baselines", "load_baseline": "sentiment_lab.compare.baselines",
    "LLMClient": "sentiment_lab.compare.llm", "LLMClassifier": "sentiment_lab.compare.llm", "LLMSettings": "sentiment_lab.compare.llm",
    "generate_reviews": "sentiment_lab.compare.llm", "run_compare": "sentiment_lab.compare.side_by_side", "build_samples": "sentiment_lab.compare.side_by_side",
    "build_methods": "sentiment_lab.compare.side_by_side",
    "embedding_report": "sentiment_lab.analysis.embeddings",
    "analyze_errors": "sentiment_lab.analysis.error_analysis",
    "create_app": "sentiment_lab.serve", "Chat": "sentiment_lab.chat",
    "SentimentLabError": "sentiment_lab.exceptions", "ConfigError": "sentiment_lab.exceptions",
    "DataError": "sentiment_lab.exceptions", "BundleError": "sentiment_lab.exceptions", "InputError": "sentiment_lab.exceptions",
}
__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'sentiment_lab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))  # tab completion in notebooks sees the lazy names
