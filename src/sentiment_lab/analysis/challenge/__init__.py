"""A challenge suite in the spirit of CheckList (Ribeiro et al., ACL 2020): short labelled
cases written for this project, grouped by capability (negation, contrast, sarcasm, typos,
other domains, invariance to names and neutral words, the notebook's own sentences...).

Accuracy on IMDB says how often a model is right on reviews like IMDB's; the suite says
*where* it breaks. Invariance cases come in pairs that differ only by a name or a neutral
word: a pair passes when both get the same label (the label itself is checked too, and
counted in the group's accuracy).

Two suites ship: English (suite.jsonl) and French (suite_fr.jsonl, written for this project in
the same groups, with French negation: "pas mauvais", "ne ... jamais", "ne ... plus"). The
invariance groups over protected attributes (religion, nationality, ... generated from
templates, thousands of sentences) live in invariance.py.
"""
from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import ConfigError, DataError, require_file
from sentiment_lab.text.counterfactual import resolve_language

SUITES = {"en": "suite.jsonl", "fr": "suite_fr.jsonl"}  # the built-in suites by language


def suite_language(clf: Any) -> str:
    """The language of a model (its config's text.language, when it has one) as a built-in suite
    name; "en" when it has none or one without a suite."""
    return config_language(getattr(clf, "config", None))


def config_language(cfg: Any) -> str:
    """A config's text.language as a built-in suite name ("en" without one: the setting is newer
    than most bundles)."""
    language = getattr(getattr(cfg, "text", None), "language", None)
    try:
        return resolve_language(language)
    except ConfigError:  # a language without word lists or suite: the English ones
        return "en"


def _suite_text(suite: str | Path) -> str:
    """A built-in suite's text (by name) or a file's; a name that is neither lists the known ones."""
    name = str(suite)
    if name in SUITES:
        return resources.files("sentiment_lab.analysis.challenge").joinpath(SUITES[name]).read_text(encoding="utf-8")
    path = Path(suite)
    if not path.exists() and not path.suffix and len(path.parts) == 1:
        raise DataError(f"unknown suite {name!r}; built-in: {', '.join(SUITES)}, or a path to a JSONL file")
    return require_file(path).read_text(encoding="utf-8")


def load_suite(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The cases: dicts with group, text, label ("positive"/"negative") and, for invariance, pair.
    `path`: a built-in suite's name ("en", "fr"; None = "en") or a JSONL file."""
    name = "suite.jsonl" if path is None else SUITES.get(str(path), path)
    try:
        text = _suite_text("en" if path is None else path)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    cases = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{name}: line {n}: not JSON ({exc.msg})") from None
        if (not isinstance(case, dict) or case.get("label") not in ("positive", "negative")
                or not isinstance(case.get("text"), str) or not case["text"] or not isinstance(case.get("group", ""), str)):
            raise DataError(f"{name}: line {n}: needs text, group and label positive/negative")
        case.setdefault("group", "other")
        cases.append(case)
    return cases


def run_challenge(clf: Any, cases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Predict every case; per-group accuracy, invariance pass rate, and the failures."""
    cases = cases if cases is not None else load_suite()
    preds = clf([c["text"] for c in cases])
    per_group: dict[str, list[bool]] = defaultdict(list)
    failures = []
    for c, p in zip(cases, preds):
        ok = p["label"] == c["label"]
        per_group[c["group"]].append(ok)
        if not ok:
            failures.append({**c, "predicted": p["label"], "score": p["score"]})
    pairs: dict[Any, list[str]] = defaultdict(list)
    for c, p in zip(cases, preds):
        if "pair" in c:
            pairs[c["pair"]].append(p["label"])
    broken = [k for k, labels in pairs.items() if len(set(labels)) > 1]
    groups = {g: {"n": len(v), "accuracy": sum(v) / len(v)} for g, v in per_group.items()}
    return {"n": len(cases), "accuracy": sum(sum(v) for v in per_group.values()) / len(cases), "groups": groups,
            "invariance": {"pairs": len(pairs), "consistent": len(pairs) - len(broken),
                           "broken": [[c["text"] for c in cases if c.get("pair") == k] for k in broken]},
            "failures": failures}
