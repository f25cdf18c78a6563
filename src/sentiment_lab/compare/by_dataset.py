"""Every method on every dataset's own test split: the per-dataset table of
`sentiment-lab compare --datasets imdb+sst2+amazon-blitzer` and benchmarks/bench_baselines_by_dataset.py.

    tests = load_test_sets("imdb+sst2+amazon-blitzer", limit=500, seed=42)   # {name: records}
    rows = score_by_dataset({"tfidf@imdb": clf, ...}, tests)                 # one row per method x dataset
    print(markdown(table(rows)))

A mixture's figures are only meaningful per source (25,000 long IMDB reviews would drown
1,821 SST-2 sentences in one pooled accuracy), so nothing here pools test sets. Amazon
(Blitzer) is also scored per product domain, read from its ids (`books/...`).
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from sentiment_lab.analysis.metrics import compute_metrics


def load_test_sets(spec: str | Sequence[str], limit: int | None = None, seed: int = 42,
                   progress: bool = False) -> dict[str, list]:
    """Each named dataset's test split (a seeded, stratified subset of `limit` rows when given),
    in the order named; a dataset without a labelled test split is an error naming it."""
    from sentiment_lab.data import subsample
    from sentiment_lab.data.datasets import load_dataset
    from sentiment_lab.data.mixture import parse_mixture

    return {name: subsample(load_dataset(name, splits=["test"], progress=progress), limit, seed)
            for name in parse_mixture(spec)}


def domain_of(record: Any) -> str | None:
    """The product domain of an Amazon (Blitzer) review, from its id (`books/123`); else None."""
    if getattr(record, "source", None) != "amazon-blitzer" or "/" not in str(record.id):
        return None
    return str(record.id).split("/", 1)[0]


def metrics_of(records: Sequence[Any], p_positive: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro F1, ROC-AUC on a test set, and accuracy per domain where it has domains."""
    y = np.array([r.label for r in records])
    m = compute_metrics(y, p_positive)
    out = {k: m[k] for k in ("n", "accuracy", "f1_macro", "roc_auc")}
    domains = [domain_of(r) for r in records]
    if any(domains):
        hits = (np.asarray(p_positive) >= 0.5) == y
        out["per_domain"] = {d: float(np.mean(hits[[i for i, x in enumerate(domains) if x == d]]))
                             for d in sorted({d for d in domains if d})}
    return out


def score_by_dataset(methods: dict[str, Any], test_sets: dict[str, list]) -> list[dict[str, Any]]:
    """One row per method and test set: its metrics and raw-text throughput of that one pass
    (`predict_proba` from the texts, tokenization included)."""
    rows = []
    for dataset, records in test_sets.items():
        texts = [r.text for r in records]
        for name, clf in methods.items():
            t0 = time.perf_counter()
            p = clf.predict_proba(texts)[:, 1]
            seconds = time.perf_counter() - t0
            rows.append({"method": name, "dataset": dataset, **metrics_of(records, p),
                         "reviews_per_s": len(texts) / max(seconds, 1e-9)})
    return rows


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Rows for a text table: dataset, method, n, accuracy, macro F1, per-domain accuracy, reviews/s."""
    head = ["dataset", "method", "n", "accuracy", "macro F1", "per domain", "reviews/s"]
    body = [[r["dataset"], r["method"], f"{r['n']:,}", f"{r['accuracy']:.1%}", f"{r['f1_macro']:.1%}",
             ", ".join(f"{d} {a:.1%}" for d, a in r.get("per_domain", {}).items()) or "-",
             f"{r['reviews_per_s']:,.0f}"] for r in rows]
    return [head] + body


def dataset_samples(spec: str | Sequence[str], n: int, seed: int = 42, train_limit: int | None = None,
                    progress: bool = False) -> tuple[list, list]:
    """For `sentiment-lab compare --datasets`: one labelled sample per named dataset (a seeded,
    stratified subset of n test rows, named after the dataset) and the training rows of their
    mixture (at most train_limit, drawn from every source; a test text of one source never
    trains another: data/mixture.py drops it)."""
    from sentiment_lab.compare.side_by_side import Sample
    from sentiment_lab.data import load_mixture, subsample

    mix = load_mixture(spec, caps=train_limit, seed=seed, require_test=True, progress=progress)
    samples = []
    for name, source in mix.sources.items():
        sub = subsample(source.test, n, seed)
        samples.append(Sample(name, [r.text for r in sub], [int(r.label) for r in sub]))
    return samples, subsample(mix.train, train_limit, seed)
