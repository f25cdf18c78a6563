"""Every available method on the same texts, side by side: the RNN, the lexicon, TF-IDF,
NBSVM, sentence embeddings and LLMs (zero- and k-shot).

    samples = build_samples(records=imdb_test, n=200, challenge=True, sentences=["..."])
    methods, skipped, notes = build_methods(["rnn", "tfidf", "llm-0shot"], train=imdb_train, ...)
    result = run_compare(methods, samples, skipped=skipped, notes=notes)
    write_outputs(result, "runs/compare")

Per method and sample: accuracy and macro F1 (an invalid LLM answer counts as wrong),
invalid answers, latency per review, throughput, cost; the course's sentence table (text
| RNN | other methods | agreement with the RNN); a pairwise agreement matrix over all
items. A method whose provider is not configured is listed as skipped, with the reason.
"""
from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment_lab.fileio import write_json, write_text
from sentiment_lab.inference.postprocess import label_of, postprocess

METHODS = ("rnn", "vader", "tfidf", "nbsvm", "fasttext", "sentence-embeddings", "llm-0shot", "llm-kshot")
TRAINED = ("vader", "tfidf", "nbsvm", "fasttext", "sentence-embeddings")
EMBEDDING_TRAIN_CAP = 500  # MiniLM encodes a few reviews per second on a small CPU


@dataclass
class Sample:
    name: str
    texts: list[str]
    labels: list[int] | None = None  # 0/1; None for unlabelled sentences
    groups: list[str] | None = None


def build_samples(records: Sequence[Any] | None = None, n: int = 200, seed: int = 42, challenge: bool = True,
                  sentences: Sequence[str] = (), suite_path: str | Path | None = None) -> list[Sample]:
    """A seeded, stratified subset of labelled records (IMDB test), the challenge suite,
    and sentences typed by the user (or, when there are none, the notebook's sentences)."""
    from sentiment_lab.analysis.challenge import load_suite
    from sentiment_lab.data import subsample

    out = []
    if records:
        sub = subsample(list(records), n, seed)
        out.append(Sample("imdb", [r.text for r in sub], [int(r.label) for r in sub]))
    cases = load_suite(suite_path) if challenge or not sentences else []
    if challenge:
        out.append(Sample("challenge", [c["text"] for c in cases], [int(c["label"] == "positive") for c in cases],
                          [c["group"] for c in cases]))
    if sentences:
        out.append(Sample("sentences", list(sentences)))
    else:  # the course's own side-by-side sentences
        nb = [c for c in cases if c["group"] == "notebook"]
        out.append(Sample("sentences", [c["text"] for c in nb], [int(c["label"] == "positive") for c in nb]))
    return out


def build_methods(names: Sequence[str], rnn_bundle: str | Path | None = None,
                  baseline_dirs: dict[str, str | Path] | None = None, train: Sequence[Any] | None = None,
                  train_limit: int = 2000, seed: int = 42, llm_settings: Any = None,
                  k_shot: int = 4, train_name: str = "IMDB train reviews") -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(methods ready to predict, skipped {name: reason}, notes {name: how it was obtained});
    `train_name` says in the notes what `train` holds."""
    from sentiment_lab.exceptions import ConfigError, SentimentLabError

    bad = [m for m in names if m not in METHODS]
    if bad:
        raise ConfigError(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(METHODS)}")
    baseline_dirs = dict(baseline_dirs or {})
    methods: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    notes: dict[str, str] = {}
    for name in names:
        try:
            if name == "rnn":
                from sentiment_lab.inference.classifier import SentimentClassifier

                methods[name] = SentimentClassifier.from_pretrained(rnn_bundle)
                notes[name] = f"bundle {rnn_bundle}" if rnn_bundle else "the shipped model (BiLSTM 128)"
            elif name in TRAINED:
                methods[name], notes[name] = _baseline(name, baseline_dirs.get(name), train, train_limit, seed,
                                                       train_name)
            else:
                methods[name], notes[name] = _llm(name, llm_settings, train, k_shot, seed)
        except _Skip as exc:
            skipped[name] = str(exc)
        except SentimentLabError as exc:
            if name.startswith("llm"):
                skipped[name] = str(exc)
            else:
                raise
    return methods, skipped, notes


class _Skip(Exception):
    pass


def _baseline(name: str, directory: str | Path | None, train: Sequence[Any] | None, limit: int,
              seed: int, train_name: str = "IMDB train reviews") -> tuple[Any, str]:
    from sentiment_lab.compare.baselines import baseline_class, get_baseline
    from sentiment_lab.data import subsample

    if directory is not None:  # refuses a directory of another kind (a TF-IDF model run as "nbsvm")
        return baseline_class(name).from_pretrained(directory), f"loaded from {directory}"
    if name == "vader":
        return get_baseline("vader"), "VADER lexicon, positive when compound >= 0.05 (no training)"
    if name == "sentence-embeddings":
        try:
            import sentence_transformers  # noqa: F401
        except ImportError:
            raise _Skip("sentence-transformers is not installed (pip install 'sentiment-lab[embeddings]')") from None
        limit = min(limit, EMBEDDING_TRAIN_CAP)
    if name == "fasttext":
        try:
            import fasttext  # noqa: F401
        except ImportError:
            raise _Skip("fasttext is not installed (pip install 'sentiment-lab[fasttext]')") from None
    if not train:
        raise _Skip("no training data: pass --data (IMDB) or --baseline NAME=DIR (sentiment-lab baseline train)")
    sub = subsample(list(train), limit, seed)
    t0 = time.perf_counter()
    clf = get_baseline(name).fit([r.text for r in sub], [r.label for r in sub])
    return clf, f"trained here on {len(sub):,} {train_name} in {time.perf_counter() - t0:.1f} s"


def _llm(name: str, settings: Any, train: Sequence[Any] | None, k_shot: int, seed: int) -> tuple[Any, str]:
    from sentiment_lab.compare.llm import LLMClassifier, LLMClient, LLMSettings

    client = LLMClient(settings or LLMSettings())  # LLMNotConfigured -> skipped with its message
    if name == "llm-0shot":
        return LLMClassifier(client, k_shot=0), f"{client.name}, zero-shot"
    if not train:
        raise _Skip(f"{k_shot}-shot needs labelled demonstrations: pass --data (IMDB train)")
    llm = LLMClassifier(client, k_shot=k_shot, seed=seed).fit([r.text for r in train], [r.label for r in train])
    return llm, f"{client.name}, {k_shot}-shot (demonstrations from IMDB train, seed {seed})"


def _predict(method: Any, texts: list[str]) -> tuple[np.ndarray, float, float | None, list[str | None]]:
    """(P(positive) with NaN for invalid answers, seconds, cost in USD or None, errors)."""
    from sentiment_lab.compare.llm import LLMClassifier

    if isinstance(method, LLMClassifier):
        before = method.client.usage.as_dict()["cost_usd"]
        t0 = time.perf_counter()
        preds = method.classify(texts)
        seconds = time.perf_counter() - t0
        after = method.client.usage.as_dict()["cost_usd"]
        cost = None if before is None or after is None else after - before
        return np.array([p.p_positive for p in preds]), seconds, cost, [p.error for p in preds]
    method.predict_proba(texts[:1])  # warm-up: lazy model loading is not per-review latency
    t0 = time.perf_counter()
    p = method.predict_proba(texts)[:, 1]
    return p, time.perf_counter() - t0, 0.0, [None] * len(texts)


def labels_of(p: np.ndarray) -> list[str]:
    return ["invalid" if math.isnan(q) else label_of(q) for q in p]


def scores(y: Sequence[int], pred: Sequence[str]) -> tuple[float, float]:
    """Accuracy and macro F1 where an invalid answer is scored as the wrong label."""
    from sklearn.metrics import f1_score

    y = np.asarray(y, dtype=int)
    hat = np.array([1 - t if p == "invalid" else int(p == "positive") for p, t in zip(pred, y)])
    return float(np.mean(hat == y)), float(f1_score(y, hat, average="macro", labels=[0, 1], zero_division=0))


def run_compare(methods: dict[str, Any], samples: list[Sample], skipped: dict[str, str] | None = None,
                notes: dict[str, str] | None = None, reference: str = "rnn") -> dict[str, Any]:
    """Predict every sample with every method; metrics, per-item labels, agreement."""
    rows, preds = [], {m: {} for m in methods}
    for s in samples:
        for name, method in methods.items():
            p, seconds, cost, errors = _predict(method, s.texts)
            labels = labels_of(p)
            preds[name][s.name] = {"labels": labels, "p_positive": [None if math.isnan(q) else float(q) for q in p],
                                   "errors": errors}
            row = {"method": name, "sample": s.name, "n": len(s.texts), "invalid": labels.count("invalid"),
                   "ms_per_review": 1e3 * seconds / len(s.texts), "reviews_per_s": len(s.texts) / max(seconds, 1e-9),
                   "cost_usd": cost, "accuracy": None, "f1_macro": None}
            if s.labels is not None:
                row["accuracy"], row["f1_macro"] = scores(s.labels, labels)
            rows.append(row)
    result = {"methods": list(methods), "skipped": dict(skipped or {}), "notes": dict(notes or {}),
              "samples": [{"name": s.name, "n": len(s.texts), "labelled": s.labels is not None} for s in samples],
              "metrics": rows, "agreement": agreement(preds, [s.name for s in samples]),
              "groups": group_accuracy(preds, samples),
              "sentences": sentence_rows(preds, samples, reference), "reference": reference,
              "predictions": {m: {s: v["labels"] for s, v in d.items()} for m, d in preds.items()}}
    return result


def agreement(preds: dict[str, dict[str, dict]], sample_names: list[str]) -> dict[str, dict[str, float | None]]:
    """Share of items on which two methods give the same label (items where either is invalid left out)."""
    names = list(preds)
    flat = {m: [lab for s in sample_names for lab in preds[m][s]["labels"]] for m in names}
    out: dict[str, dict[str, float | None]] = {}
    for a in names:
        out[a] = {}
        for b in names:
            pairs = [(x, y) for x, y in zip(flat[a], flat[b]) if "invalid" not in (x, y)]
            out[a][b] = sum(x == y for x, y in pairs) / len(pairs) if pairs else None
    return out


def group_accuracy(preds: dict[str, dict[str, dict]], samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Challenge-suite accuracy per capability group and method."""
    ch = next((s for s in samples if s.groups is not None and s.labels is not None), None)
    if ch is None:
        return {}
    out: dict[str, dict[str, float]] = {}
    for g in sorted(set(ch.groups)):
        idx = [i for i, x in enumerate(ch.groups) if x == g]
        out[g] = {m: float(np.mean([preds[m][ch.name]["labels"][i] == ("positive" if ch.labels[i] else "negative")
                                    for i in idx])) for m in preds}
    return out


def sentence_rows(preds: dict[str, dict[str, dict]], samples: list[Sample], reference: str) -> list[dict[str, Any]]:
    """The course's table: each sentence with every method's label and score, and how
    many of the other methods agree with the reference (the RNN)."""
    s = next((x for x in samples if x.name == "sentences"), None)
    if s is None or not preds:
        return []
    rows = []
    for i, text in enumerate(s.texts):
        cells = {}
        for m in preds:
            lab = preds[m][s.name]["labels"][i]
            q = preds[m][s.name]["p_positive"][i]
            cells[m] = {"label": lab, "score": None} if q is None else postprocess(q, with_p_positive=False)
        others = [m for m in preds if m != reference]
        agree = sum(cells[m]["label"] == cells[reference]["label"] for m in others) if reference in cells else None
        rows.append({"text": text, "expected": None if s.labels is None else ("positive" if s.labels[i] else "negative"),
                     "cells": cells, "agree_with_reference": agree, "others": len(others)})
    return rows


# ---- outputs: Markdown and CSV tables, one JSON with everything ----

def _fmt(v: Any, kind: str = "") -> str:
    if v is None:
        return "-"
    if kind == "pct":
        return f"{v:.1%}"
    if kind == "usd":
        return "$0" if v == 0 else f"${v:.4f}"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)


def metrics_table(result: dict[str, Any]) -> list[list[str]]:
    head = ["method", "sample", "n", "accuracy", "macro F1", "invalid", "ms/review", "reviews/s", "cost"]
    body = [[r["method"], r["sample"], str(r["n"]), _fmt(r["accuracy"], "pct"), _fmt(r["f1_macro"], "pct"),
             str(r["invalid"]), _fmt(r["ms_per_review"]), _fmt(r["reviews_per_s"]),
             "unknown" if r["cost_usd"] is None else _fmt(r["cost_usd"], "usd")] for r in result["metrics"]]
    return [head] + body


def sentence_table(result: dict[str, Any]) -> list[list[str]]:
    rows = result["sentences"]
    if not rows:
        return []
    methods = list(rows[0]["cells"])
    head = ["text"] + (["expected"] if any(r["expected"] for r in rows) else []) + methods + ["agreement with " + result["reference"]]
    body = []
    for r in rows:
        cells = [f"{c['label']} {c['score']:.2f}" if c["score"] is not None else c["label"] for c in r["cells"].values()]
        agree = "-" if r["agree_with_reference"] is None or not r["others"] else \
            f"{r['agree_with_reference']}/{r['others']}"  # one method alone agrees with nothing: not "0/0"
        body.append([r["text"]] + ([r["expected"] or ""] if len(head) == len(methods) + 3 else []) + cells + [agree])
    return [head] + body


def agreement_table(result: dict[str, Any]) -> list[list[str]]:
    a = result["agreement"]
    names = list(a)
    return [[""] + names] + [[m] + [_fmt(a[m][n], "pct") for n in names] for m in names]


def groups_table(result: dict[str, Any]) -> list[list[str]]:
    g = result["groups"]
    if not g:
        return []
    names = result["methods"]
    return [["group"] + names] + [[k] + [_fmt(v[m], "pct") for m in names] for k, v in g.items()]


def markdown(table: list[list[str]]) -> str:
    if not table:
        return ""
    esc = [[c.replace("|", "\\|").replace("\n", " ") for c in row] for row in table]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in esc[1:]]) + "\n"


def report_markdown(result: dict[str, Any]) -> str:
    parts = ["# sentiment-lab compare", ""]
    parts += [f"- **{m}**: {result['notes'].get(m, '')}" for m in result["methods"]]
    parts += [f"- **{m}**: skipped ({why})" for m, why in result["skipped"].items()]
    parts += ["", "## Metrics", "", markdown(metrics_table(result)),
              "An invalid LLM answer (not the JSON asked for, or a request that failed) counts as wrong.", ""]
    for title, table in (("Sentences side by side", sentence_table(result)), ("Challenge suite by group", groups_table(result)),
                         ("Pairwise agreement (share of items with the same label)", agreement_table(result))):
        if table:
            parts += [f"## {title}", "", markdown(table)]
    return "\n".join(parts)


def _csv(table: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(table)
    return buf.getvalue()


def write_outputs(result: dict[str, Any], directory: str | Path) -> list[Path]:
    """compare.json (everything), compare.md (all tables), and one CSV per table."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    write_json(d / "compare.json", result)
    write_text(d / "compare.md", report_markdown(result), newline="")
    written = [d / "compare.json", d / "compare.md"]
    for name, table in (("metrics", metrics_table(result)), ("sentences", sentence_table(result)),
                        ("agreement", agreement_table(result)), ("challenge_groups", groups_table(result))):
        if table:
            write_text(d / f"{name}.csv", _csv(table), newline="")
            written.append(d / f"{name}.csv")
    return written
